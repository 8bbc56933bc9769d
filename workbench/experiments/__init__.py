"""Experiments: cross-validation and the learning curve, each a series of trials (trial.py) that train a pipeline and score it on held-out documents."""
