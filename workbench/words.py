"""Wording shared by reports and commands: counts with the right plural ("1 document", "2 documents"); figures are metrics'."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 document', '2 documents'; `plural` for nouns that do not just take an s ('1 entity', '2 entities')."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
