"""Canonical records <-> spaCy Docs. Relations travel in the Doc as `doc._.relations`.

`doc._.relations` is a list of plain dicts, so that DocBin (msgpack) keeps it:
    {"head": [start_token, end_token], "tail": [start_token, end_token], "label": str, "score": float}
Token ranges are end-exclusive and match entities in `doc.ents`. Use
`relation_spans(doc)` to get Span objects back.
"""

from __future__ import annotations

from typing import Iterator

from spacy.tokens import Doc, Span

from workbench.errors import WorkbenchError
from workbench.records import AnnotatedDoc, Entity, Relation

if not Doc.has_extension("relations"):
    Doc.set_extension("relations", default=None)
if not Doc.has_extension("doc_id"):
    Doc.set_extension("doc_id", default=None)


def get_relations(doc: Doc) -> list[dict]:
    return doc._.relations or []


def relation_spans(doc: Doc) -> Iterator[tuple[Span, Span, str, float | None]]:
    """(head span, tail span, label, score) for each relation in the doc; spans are the labelled entities."""
    ents = {(ent.start, ent.end): ent for ent in doc.ents}

    def span(bounds) -> Span:
        start, end = bounds
        return ents.get((start, end)) or doc[start:end]

    for rel in get_relations(doc):
        yield span(rel["head"]), span(rel["tail"]), rel["label"], rel.get("score")


def record_to_doc(make_doc, record: AnnotatedDoc) -> Doc:
    """Tokenize the text and set entities and relations; misaligned spans raise WorkbenchError."""
    doc = make_doc(record.text)
    token_spans: dict = {}
    spans = []
    for ent in sorted(record.entities, key=lambda e: (e.start, e.end)):
        span = doc.char_span(ent.start, ent.end, label=ent.label)
        if span is None:
            raise WorkbenchError(
                f"entity {ent.id!r} at {ent.start}-{ent.end} does not align to spaCy tokens; run `workbench annotations validate`",
                doc_id=record.doc_id,
            )
        spans.append(span)
        token_spans[ent.id] = [span.start, span.end]
    try:
        doc.ents = spans
    except ValueError as exc:
        raise WorkbenchError(f"entities cannot be set on the Doc: {exc}", doc_id=record.doc_id) from None
    relations = []
    for rel in record.relations:
        if rel.head not in token_spans or rel.tail not in token_spans:
            raise WorkbenchError(f"relation {rel.id!r} points at a missing entity", doc_id=record.doc_id)
        entry = {"head": token_spans[rel.head], "tail": token_spans[rel.tail], "label": rel.type}
        if "score" in rel.attrs:
            entry["score"] = rel.attrs["score"]
        relations.append(entry)
    doc._.relations = relations
    doc._.doc_id = record.doc_id
    return doc


def doc_to_record(doc: Doc, doc_id: str | None = None, meta: dict | None = None) -> AnnotatedDoc:
    """Entities from `doc.ents` (ids 1..n in text order) and relations from `doc._.relations`."""
    entities = []
    id_by_tokens: dict[tuple[int, int], int] = {}
    for number, ent in enumerate(doc.ents, start=1):
        entities.append(Entity(number, ent.label_, ent.start_char, ent.end_char))
        id_by_tokens[(ent.start, ent.end)] = number
    relations = []
    for rel in get_relations(doc):
        head = id_by_tokens.get(tuple(rel["head"]))
        tail = id_by_tokens.get(tuple(rel["tail"]))
        if head is None or tail is None:
            continue
        attrs = {"score": round(float(rel["score"]), 4)} if rel.get("score") is not None else {}
        relations.append(Relation(len(relations) + 1, head, tail, rel["label"], attrs))
    return AnnotatedDoc(doc_id or doc._.doc_id or "", doc.text, entities, relations, dict(meta or {}))


def docbin_doc_ids(path) -> list[str]:
    """The doc_id of every Doc in a DocBin written from canonical records (None for a Doc that has none)."""
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    return [doc._.doc_id for doc in DocBin(store_user_data=True).from_disk(path).get_docs(Vocab())]
