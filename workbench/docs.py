"""Canonical records <-> spaCy Docs, the gold tokenizer, and DocBin files. Relations travel in the Doc as `doc._.relations`.

`doc._.relations` is a list of plain dicts, so that DocBin (msgpack) keeps it:
    {"head": [start_token, end_token], "tail": [start_token, end_token], "label": str, "score": float}
Token ranges are end-exclusive and match entities in `doc.ents`. Use
`relation_spans(doc)` to get Span objects back.

Gold is tokenized one way everywhere (`make_gold_nlp`): spaCy's blank tokenizer, and its
sentencizer for sentence boundaries. Validation checks spans against it, training reads it
from the DocBins, and evaluation and the reach put gold entities on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import spacy
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from workbench.errors import WorkbenchError
from workbench.fileio import atomic_open
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


def make_gold_nlp(lang: str = "en"):
    """The gold tokenizer plus a sentencizer: sentence boundaries let training use sentence-sized examples."""
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp


def gold_docs(records: Iterable[AnnotatedDoc], nlp=None) -> list[Doc]:
    """The records as gold Docs (entities, relations, sentences), as training reads them."""
    nlp = nlp or make_gold_nlp()
    return [nlp(record_to_doc(nlp.make_doc, record)) for record in records]


# What a pipe that sets entities or spans assigns; such a pipe would overwrite the gold entities.
# spaCy's span_ruler declares only doc.spans, even where it writes doc.ents too.
ENTITY_OR_SPAN_ANNOTATIONS = ("doc.ents", "token.ent_iob", "token.ent_type", "doc.spans")


def through_encoders(nlp, docs: list[Doc], before: str = "relation_extractor") -> list[Doc]:
    """The docs through every pipe before `before` (all pipes, without one) that sets no entities or spans.

    That is sentence boundaries and the shared encoder a relation model may listen to (a
    transformer, a tok2vec), so a relation component scores gold entities on the sentences and
    token vectors it would have in the pipeline, not on empty ones. The docs' entities are put
    back afterwards, in case a pipe changed them without saying so in its meta.
    """
    names = nlp.pipe_names
    stop = names.index(before) if before in names else len(names)
    entities = [[(ent.start, ent.end, ent.label_) for ent in doc.ents] for doc in docs]
    for name, proc in nlp.pipeline[:stop]:
        if not set(nlp.get_pipe_meta(name).assigns) & set(ENTITY_OR_SPAN_ANNOTATIONS):
            docs = list(proc.pipe(docs)) if hasattr(proc, "pipe") else [proc(doc) for doc in docs]
    for doc, ents in zip(docs, entities):
        doc.ents = [Span(doc, start, end, label=label) for start, end, label in ents]
    return docs


def gold_entity_docs(nlp, records: Iterable[AnnotatedDoc]) -> list[Doc]:
    """The records as Docs with their gold entities and relations, through the pipeline's encoders (`through_encoders`)."""
    return through_encoders(nlp, [record_to_doc(nlp.make_doc, record) for record in records])


def gold_entity_doc(nlp, record: AnnotatedDoc) -> Doc:
    """One record as `gold_entity_docs` makes it."""
    return gold_entity_docs(nlp, [record])[0]


def write_docbin(path: str | Path, docs: Iterable[Doc]) -> Path:
    """The docs as a DocBin file (with their relations and ids), written atomically."""
    data = DocBin(store_user_data=True, docs=docs).to_bytes()
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def read_docbin(nlp, path: str | Path) -> list[Doc]:
    """The docs of a DocBin file, on `nlp`'s vocab."""
    path = Path(path)
    if not path.exists():
        raise WorkbenchError("DocBin not found (run `workbench data` first)", path=path)
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def count_docbin(path: str | Path) -> int:
    """How many docs a DocBin file holds, without making them."""
    return len(DocBin().from_disk(path))


def docbin_documents(path: str | Path) -> list[tuple[str | None, str]]:
    """(doc_id, text) of every Doc in a DocBin written from canonical records (doc_id None for a Doc that has none)."""
    return [(doc._.doc_id, doc.text) for doc in DocBin(store_user_data=True).from_disk(path).get_docs(Vocab())]


def docbin_doc_ids(path: str | Path) -> list[str]:
    """The doc_id of every Doc in a DocBin written from canonical records (None for a Doc that has none)."""
    return [doc_id for doc_id, _ in docbin_documents(path)]
