"""Evaluation stage: score a trained pipeline on held-out gold documents and write reports."""
