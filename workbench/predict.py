"""Run a trained pipeline over articles and return canonical records (also the pre-annotations for Doccano)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import spacy
from spacy.util import load_config, load_meta, load_model_from_config

from workbench.corpus.ingest import is_hf_dataset_dir, read_source
from workbench.corpus.store import load_corpus
from workbench.docs import doc_to_record
from workbench.errors import WorkbenchError
from workbench.records import AnnotatedDoc


def load_pipeline(model: str | Path):
    """The pipeline at `model` (a folder, or an installed package); any failure is one error naming the part that fails."""
    path = Path(model)
    if path.exists() and (path / "model-best").is_dir() and not (path / "meta.json").exists():
        path = path / "model-best"
    try:
        return spacy.load(path)
    except Exception as exc:
        # A truncated or garbled file fails in whichever reader meets it first (msgpack, JSON,
        # thinc, numpy), with that reader's exception: so any exception, then find the part.
        cause = " ".join((str(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}").split())
        part = damaged_part(path) if path.is_dir() else None
        if part is None:
            raise WorkbenchError(f"cannot load a spaCy pipeline: {cause}", path=model) from None
        what = part if part in _NOT_COMPONENTS else f"component {part!r}"
        raise WorkbenchError(
            f"cannot load a spaCy pipeline: its {what} ({path / part}) is damaged or incomplete ({cause}); "
            "train the model again or copy the whole folder again",
            path=model,
        ) from None


_NOT_COMPONENTS = ("config.cfg", "meta.json", "vocab", "tokenizer")


def damaged_part(path: Path) -> str | None:
    """The first part of a pipeline folder that fails to load, in spaCy's order: "config.cfg", "meta.json",
    "vocab", "tokenizer" or a component's name; None if each part loads."""
    if not (path / "config.cfg").exists():  # not a pipeline folder at all: spaCy's own message says so
        return None
    try:
        config = load_config(path / "config.cfg")
    except Exception:
        return "config.cfg"
    try:
        meta = load_meta(path / "meta.json") if (path / "meta.json").exists() else {}
    except Exception:
        return "meta.json"
    try:
        nlp = load_model_from_config(config, meta=meta)
    except Exception:  # not damage: the config itself does not build (an unknown component, say)
        return None
    parts = [("vocab", lambda p: nlp.vocab.from_disk(p)), ("tokenizer", lambda p: nlp.tokenizer.from_disk(p, exclude=["vocab"]))]
    parts += [(name, lambda p, proc=proc: proc.from_disk(p, exclude=["vocab"])) for name, proc in nlp.components if hasattr(proc, "from_disk")]
    for name, load in parts:
        if not (path / name).exists():
            continue
        try:
            load(path / name)
        except Exception:
            return name
    return None


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
