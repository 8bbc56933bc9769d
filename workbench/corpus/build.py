"""Build the canonical corpus: read, deduplicate, group, split, store."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from workbench.corpus.dedupe import ExactDuplicate, drop_exact_duplicates, group_articles
from workbench.corpus.ingest import RawArticle, dumps_meta, read_sources
from workbench.corpus.split import assign_splits, load_assignments, save_assignments
from workbench.corpus.store import save_corpus
from workbench.errors import WorkbenchError
from typing import Dict, List

from pydantic import BaseModel, StrictInt, StrictStr, confloat

from workbench.yamlconfig import load_optional_yaml_model

log = logging.getLogger(__name__)
DEFAULT_CONFIG = Path("configs/corpus.yml")


class CorpusConfig(BaseModel):
    """configs/corpus.yml; its schema too (unknown keys and wrong types are errors naming the key and line)."""

    sources: List[StrictStr] = ["corpus/raw"]
    output: StrictStr = "corpus/build"
    splits_file: StrictStr = "corpus/splits.json"
    ratios: Dict[StrictStr, confloat(ge=0)] = {"train": 0.6, "dev": 0.2, "test": 0.2}
    seed: StrictInt = 13
    near_duplicate_threshold: confloat(ge=0, le=1) = 0.8
    keep_together: List[List[StrictStr]] = []

    class Config:
        extra = "forbid"


def load_corpus_config(path: str | Path = DEFAULT_CONFIG) -> CorpusConfig:
    """The corpus settings; a missing file means the defaults."""
    return load_optional_yaml_model(path, CorpusConfig, "corpus settings")


@dataclass
class BuildResult:
    documents: int
    split_counts: dict[str, int]
    exact_duplicates: list[ExactDuplicate]
    near_duplicate_pairs: list[tuple[str, str, float]]
    groups: int


def check_unique_ids(articles: list[RawArticle]) -> None:
    seen: dict[str, RawArticle] = {}
    for article in articles:
        first = seen.setdefault(article.doc_id, article)
        if first is not article and first.sha256 != article.sha256:
            raise WorkbenchError(
                f"document id {article.doc_id!r} is used for two different texts (also in {first.source})",
                path=article.source,
            )


def build_corpus(config: CorpusConfig) -> BuildResult:
    articles = read_sources(config.sources)
    if not articles:
        raise WorkbenchError(f"no articles found in {', '.join(config.sources)}")
    check_unique_ids(articles)
    articles, exact = drop_exact_duplicates(articles)
    groups, pairs = group_articles(articles, config.near_duplicate_threshold, config.keep_together)
    previous = load_assignments(config.splits_file)
    splits = assign_splits(groups, previous, config.ratios, config.seed)
    # Stored so that later steps (cross-validation folds) keep a group together without recomputing it.
    group_of = {doc_id: name for name, members in groups.items() for doc_id in members}
    rows = [
        {
            "doc_id": a.doc_id,
            "text": a.text,
            "sha256": a.sha256,
            "split": splits[a.doc_id],
            "group": group_of[a.doc_id],
            "source": a.source,
            "date": a.date,
            "meta": dumps_meta(a.meta),
        }
        for a in articles
    ]
    save_corpus(rows, config.output)
    # Articles that left the corpus keep their lock entry, so they return to
    # the same split if they come back.
    save_assignments(config.splits_file, {**previous, **splits}, config.ratios, config.seed)
    counts = {name: sum(1 for s in splits.values() if s == name) for name in ("train", "dev", "test")}
    return BuildResult(len(rows), counts, exact, pairs, len(groups))
