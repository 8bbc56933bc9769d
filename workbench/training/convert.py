"""Gold records + corpus split -> spaCy DocBin files (train/dev/test), relations included, and their manifest.

The gold is checked first, as `workbench annotations validate` checks it (label scheme,
spans, tokens, the corpus's texts): nothing is written when a record breaks it. manifest.json beside the DocBins
says what they were made from (gold and labels with their sha256, documents per split,
each DocBin's sha256, documents with unresolved adjudication conflicts); training reads it
back with read_data_manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbench.annotation_files import annotation_paths
from workbench.annotations.validate import check_gold
from workbench.corpus.split import SPLITS
from workbench.corpus.store import Corpus
from workbench.docs import gold_docs, make_gold_nlp, write_docbin
from workbench.errors import WorkbenchError
from workbench.fileio import check_replaceable, sha256_of_files, staged_dir, write_json
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


def _written_here(entry) -> bool:
    return entry.is_file() and (entry.name.endswith(".spacy") or entry.name == MANIFEST)


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


def convert_gold(
    gold_paths: list[str | Path], corpus: Corpus, out_dir: str | Path, scheme: LabelScheme,
    labels_path: str | Path, lang: str = "en",
) -> ConversionResult:
    """Check the gold against the scheme and the corpus, write one DocBin per split and manifest.json; nothing is written on an error."""
    out_dir = Path(out_dir)
    records = check_gold(gold_paths, scheme, corpus)
    by_split = {name: [r for r in records if corpus.split_of(r.doc_id) == name] for name in SPLITS}
    nlp = make_gold_nlp(lang)
    check_replaceable(out_dir, _written_here, "the DocBins and manifest of `workbench data`")
    paths = {name: out_dir / f"{name}.spacy" for name in SPLITS}
    documents = {n: len(rs) for n, rs in by_split.items()}
    unresolved = sorted(unresolved_conflicts([r for rs in by_split.values() for r in rs]))
    gold = [str(p) for p in gold_paths]
    # The folder is staged and swapped in whole: DocBins and manifest always agree, even after a kill.
    with staged_dir(out_dir) as stage:
        for name, path in paths.items():
            write_docbin(stage / path.name, gold_docs(by_split[name], nlp))
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

