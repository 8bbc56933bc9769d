"""Gold records + corpus split -> spaCy DocBin files (train/dev/test), relations included."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.tokens import DocBin

from workbench.corpus.ingest import text_sha256
from workbench.docs import record_to_doc
from workbench.errors import WorkbenchError
from workbench.fileio import atomic_open
from workbench.records import AnnotatedDoc, read_records

SPLITS = ("train", "dev", "test")


@dataclass
class ConversionResult:
    paths: dict[str, Path]
    documents: dict[str, int]
    entities: dict[str, int]
    relations: dict[str, int]


def make_gold_nlp(lang: str = "en"):
    """Tokenizer plus sentencizer: sentence boundaries let training use sentence-sized examples."""
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp


def corpus_row(record: AnnotatedDoc, corpus: dict[str, dict], path: str | Path) -> dict:
    """The record's corpus row; a document unknown to the corpus, or with another text, is an error."""
    row = corpus.get(record.doc_id)
    if row is None:
        raise WorkbenchError("document is not in the corpus; run `workbench corpus build`", path=path, doc_id=record.doc_id)
    if row["sha256"] != text_sha256(record.text):
        raise WorkbenchError("text differs from the corpus record", path=path, doc_id=record.doc_id)
    return row


def records_to_docbin(nlp, records: list[AnnotatedDoc]) -> DocBin:
    docbin = DocBin(store_user_data=True)
    for record in records:
        docbin.add(nlp(record_to_doc(nlp.make_doc, record)))
    return docbin


def write_docbin(path: Path, nlp, records: list[AnnotatedDoc]) -> Path:
    data = records_to_docbin(nlp, records).to_bytes()
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return path


def gold_in_corpus(gold_paths: list[str | Path], corpus: dict[str, dict]) -> list[AnnotatedDoc]:
    """The gold records of all files, each checked against the corpus; a document in two files is an error."""
    records: list[AnnotatedDoc] = []
    seen: dict[str, str] = {}
    for path in gold_paths:
        for record in read_records(path):
            corpus_row(record, corpus, path)
            if record.doc_id in seen:
                raise WorkbenchError(f"document is also in {seen[record.doc_id]}", path=path, doc_id=record.doc_id)
            seen[record.doc_id] = str(path)
            records.append(record)
    return records


def convert_gold(gold_paths: list[str | Path], corpus: dict[str, dict], out_dir: str | Path, lang: str = "en") -> ConversionResult:
    out_dir = Path(out_dir)
    records = gold_in_corpus(gold_paths, corpus)
    by_split = {name: [r for r in records if corpus[r.doc_id]["split"] == name] for name in SPLITS}
    nlp = make_gold_nlp(lang)
    paths = {name: write_docbin(out_dir / f"{name}.spacy", nlp, by_split[name]) for name in SPLITS}
    return ConversionResult(
        paths,
        {n: len(rs) for n, rs in by_split.items()},
        {n: sum(len(r.entities) for r in rs) for n, rs in by_split.items()},
        {n: sum(len(r.relations) for r in rs) for n, rs in by_split.items()},
    )


MANIFEST_NAME = "manifest.json"


def read_data_manifest(data_dir: str | Path) -> dict | None:
    """The manifest `workbench data` writes beside the DocBins, or None for DocBins made otherwise."""
    import json

    path = Path(data_dir) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbenchError(f"unreadable data manifest: {exc}", path=path) from None
