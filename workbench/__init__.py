"""Annotation and model-training workbench for news text."""

__version__ = "0.1.0"
