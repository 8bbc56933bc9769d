"""Gold records + corpus split -> spaCy DocBin files (train/dev/test), relations included, and their manifest.

The gold is checked against the label scheme first, as `workbench annotations validate`
checks it: nothing is written when a record breaks it. manifest.json beside the DocBins
says what they were made from (gold and labels with their sha256, documents per split,
each DocBin's sha256, documents with unresolved adjudication conflicts); training reads it
back with read_data_manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.tokens import DocBin

from workbench.annotation_files import annotation_paths, iter_gold
from workbench.corpus.ingest import text_sha256
from workbench.corpus.split import SPLITS
from workbench.docs import record_to_doc
from workbench.errors import WorkbenchError
from workbench.fileio import atomic_open, check_replaceable, sha256_of_files, staged_dir, write_json
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ConversionResult:
    paths: dict[str, Path]
    documents: dict[str, int]
    entities: dict[str, int]
    relations: dict[str, int]
    # Documents whose adjudication left conflicts open (record["adjudication"]["conflicts"] > 0).
    unresolved: list[str]
    manifest: Path

    @property
    def empty_splits(self) -> list[str]:
        return [name for name in SPLITS if not self.documents[name]]


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


def _written_here(entry) -> bool:
    return entry.is_file() and (entry.name.endswith(".spacy") or entry.name == MANIFEST)


def check_against_scheme(gold_paths: list[str | Path], scheme: LabelScheme) -> None:
    """The first problem `annotations validate` would report (labels, types, signatures, spans), as an error."""
    from workbench.annotations.validate import validate_files

    problems, _ = validate_files(annotation_paths(gold_paths), scheme)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more; `workbench annotations validate` lists them all)" if len(problems) > 1 else ""
        where = f" {first.start}-{first.end}" if first.start is not None else ""
        raise WorkbenchError(f"{first.message}{where}{more}; nothing written", path=first.path, line=first.line, doc_id=first.doc_id)


def unresolved_conflicts(records: list[AnnotatedDoc]) -> list[str]:
    """Ids of the documents whose adjudication left conflicts open (the vote's result stands in for them)."""
    return [r.doc_id for r in records if ((r.meta.get("adjudication") or {}).get("conflicts") or 0) > 0]


def read_data_manifest(data_dir: str | Path) -> dict | None:
    """DATA_DIR/manifest.json as `workbench data` wrote it; None when there is none (DocBins made otherwise)."""
    path = Path(data_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise WorkbenchError(f"cannot read the data manifest: {exc}", path=path) from None


def gold_in_corpus(gold_paths: list[str | Path], corpus: dict[str, dict]) -> list[AnnotatedDoc]:
    """The gold records of all files and snapshots (annotation_files.iter_gold), each checked against the corpus."""
    records: list[AnnotatedDoc] = []
    for path, number, record in iter_gold(gold_paths):
        try:
            corpus_row(record, corpus, path)
        except WorkbenchError as exc:
            raise WorkbenchError(exc.message, path=path, line=number, doc_id=record.doc_id) from None
        records.append(record)
    return records


def convert_gold(
    gold_paths: list[str | Path], corpus: dict[str, dict], out_dir: str | Path, scheme: LabelScheme,
    labels_path: str | Path, lang: str = "en",
) -> ConversionResult:
    """Check the gold against the scheme, write one DocBin per split and manifest.json; nothing is written on an error."""
    out_dir = Path(out_dir)
    check_against_scheme(gold_paths, scheme)
    records = gold_in_corpus(gold_paths, corpus)
    by_split = {name: [r for r in records if corpus[r.doc_id]["split"] == name] for name in SPLITS}
    nlp = make_gold_nlp(lang)
    check_replaceable(out_dir, _written_here, "the DocBins and manifest of `workbench data`")
    paths = {name: out_dir / f"{name}.spacy" for name in SPLITS}
    documents = {n: len(rs) for n, rs in by_split.items()}
    unresolved = sorted(unresolved_conflicts([r for rs in by_split.values() for r in rs]))
    gold = [str(p) for p in gold_paths]
    # The folder is staged and swapped in whole: DocBins and manifest always agree, even after a kill.
    with staged_dir(out_dir) as stage:
        for name, path in paths.items():
            write_docbin(stage / path.name, nlp, by_split[name])
        manifest = {
            # One gold file (the usual case) is named as given; several are listed, and their
            # sha256 is that of their bytes one after the other (fileio.sha256_of_files).
            "gold": gold[0] if len(gold) == 1 else gold,
            "gold_sha256": sha256_of_files(annotation_paths(gold_paths)),
            "labels": str(labels_path),
            "labels_sha256": sha256_of_files([labels_path]),
            "documents": documents,
            "docbins": {n: {"path": str(p), "sha256": sha256_of_files([stage / p.name])} for n, p in paths.items()},
            "unresolved_conflicts": {"count": len(unresolved), "doc_ids": unresolved},
        }
        write_json(stage / MANIFEST, manifest)
    return ConversionResult(
        paths,
        documents,
        {n: sum(len(r.entities) for r in rs) for n, rs in by_split.items()},
        {n: sum(len(r.relations) for r in rs) for n, rs in by_split.items()},
        unresolved,
        out_dir / MANIFEST,
    )

