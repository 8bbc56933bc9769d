"""Docs with entities placed by surface text, for tests that build them by hand."""

from __future__ import annotations


def doc_with_entities(nlp, text: str, spans: list[tuple[str, str, int]]):
    """spans: (surface, label, which occurrence of the surface in the text, from 0)."""
    doc = nlp.make_doc(text)
    ents = []
    for surface, label, nth in spans:
        start = -1
        for _ in range(nth + 1):
            start = text.index(surface, start + 1)
        ents.append(doc.char_span(start, start + len(surface), label=label))
    doc.ents = ents
    return doc
