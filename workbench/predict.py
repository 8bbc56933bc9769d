"""Run a trained pipeline over articles and return canonical records (also the pre-annotations for Doccano)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import spacy

from workbench.corpus.ingest import is_hf_dataset_dir, read_source
from workbench.corpus.store import load_corpus
from workbench.docs import doc_to_record
from workbench.errors import WorkbenchError
from workbench.records import AnnotatedDoc


def load_pipeline(model: str | Path):
    path = Path(model)
    if path.exists() and (path / "model-best").is_dir() and not (path / "meta.json").exists():
        path = path / "model-best"
    try:
        return spacy.load(path)
    except (OSError, IOError) as exc:
        raise WorkbenchError(f"cannot load a spaCy pipeline: {exc}", path=model) from None


@dataclass(frozen=True)
class ArticleStream:
    """Articles (doc_id, text, metadata) read lazily from a source, and how many there are."""

    articles: Iterable[tuple[str, str, dict]]
    total: int


def read_articles(source: str | Path) -> ArticleStream:
    """A built corpus (its rows, with their split), or .txt/.jsonl/folder/HF dataset sources."""
    if is_hf_dataset_dir(Path(source)):
        data = load_corpus(source)
        return ArticleStream(((row["doc_id"], row["text"], {"split": row.get("split")}) for row in data), len(data))
    raw = list(read_source(source))
    return ArticleStream([(a.doc_id, a.text, {}) for a in raw], len(raw))


def predict_records(nlp, articles: Iterable[tuple[str, str, dict]], batch_size: int = 16) -> Iterator[AnnotatedDoc]:
    """articles: (doc_id, text, metadata). Yields one predicted record per article, in order."""
    pairs = ((text, (doc_id, meta)) for doc_id, text, meta in articles)
    for doc, (doc_id, meta) in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
        yield doc_to_record(doc, doc_id, meta)
