"""Annotations stage: validate, compare and adjudicate canonical annotation files."""
