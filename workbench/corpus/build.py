"""Build the canonical corpus: read in shards, deduplicate, group, split, store.

Two streaming passes over the sources. The first keeps only ids, hashes and
MinHash signatures (never the texts) to find exact and near-duplicates; groups
and splits follow from them. The second reads the sources again and writes the
kept articles with their split. Memory is a shard plus about 0.9 KB an article
(a 512-byte signature, the id and text hash): `corpus bench` peaked at 0.39 GiB
for 100,000 articles and 1.16 GiB for a million.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from pydantic import BaseModel, StrictInt, StrictStr, confloat, conint
from tqdm import tqdm

from workbench.corpus.dedupe import (
    ExactDuplicate,
    MinHashSettings,
    NearDuplicateFinder,
    NearDuplicatePair,
    group_articles,
)
from workbench.corpus.ingest import dumps_meta, iter_shards, text_sha256
from workbench.corpus.split import assign_splits, load_assignments, save_assignments
from workbench.corpus.store import BUILD_NOTES, CorpusWriter
from workbench.errors import WorkbenchError
from workbench.fileio import sha256_of_files
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
    # Near-duplicates: estimated Jaccard similarity of word shingles, by MinHash LSH.
    near_duplicate_threshold: confloat(gt=0, le=1) = 0.5
    minhash_num_perm: conint(strict=True, ge=1) = 128
    minhash_bands: conint(strict=True, ge=1) = 32
    shingle_size: conint(strict=True, ge=1) = 3
    keep_together: List[List[StrictStr]] = []
    # Articles read and sketched at a time: memory is bounded by a shard.
    shard_size: conint(strict=True, ge=1) = 10_000

    class Config:
        extra = "forbid"

    def minhash(self) -> MinHashSettings:
        return MinHashSettings(
            self.near_duplicate_threshold, self.minhash_num_perm, self.minhash_bands, self.shingle_size
        ).check()


def load_corpus_config(path: str | Path = DEFAULT_CONFIG) -> CorpusConfig:
    """The corpus settings; a missing file means the defaults."""
    return load_optional_yaml_model(path, CorpusConfig, "corpus settings")


@dataclass
class BuildResult:
    documents: int
    split_counts: dict[str, int]
    exact_duplicates: list[ExactDuplicate]
    near_duplicate_pairs: list[NearDuplicatePair]
    groups: int


@dataclass
class _Survey:
    """What the first pass keeps: per id its text hash and source; per text hash the id kept (the smallest)."""

    seen: dict[str, tuple[str, str]] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)
    losers: list[str] = field(default_factory=list)
    same_id_copies: list[ExactDuplicate] = field(default_factory=list)
    key_sha: list[str] = field(default_factory=list)

    def exact_duplicates(self) -> list[ExactDuplicate]:
        dropped = [ExactDuplicate(d, self.kept[self.seen[d][0]], self.seen[d][1]) for d in self.losers]
        return sorted(dropped + self.same_id_copies, key=lambda d: (d.dropped, d.source))


def _survey(config: CorpusConfig, finder: NearDuplicateFinder) -> _Survey:
    survey = _Survey()
    bar = tqdm(desc="corpus: hash and sketch", unit="article", disable=None)
    for shard in iter_shards(config.sources, config.shard_size):
        new_texts = []
        for article in shard:
            sha = text_sha256(article.text)
            earlier = survey.seen.get(article.doc_id)
            if earlier is not None:
                if earlier[0] != sha:
                    raise WorkbenchError(
                        f"document id {article.doc_id!r} is used for two different texts (also in {earlier[1]})",
                        path=article.source,
                    )
                survey.same_id_copies.append(ExactDuplicate(article.doc_id, article.doc_id, article.source))
                continue
            survey.seen[article.doc_id] = (sha, article.source)
            first = survey.kept.get(sha)
            if first is None:
                survey.kept[sha] = article.doc_id
                survey.key_sha.append(sha)
                new_texts.append(article.text)
            else:
                # The first in id order is kept; the other one is an exact duplicate of it.
                survey.kept[sha] = min(first, article.doc_id)
                survey.losers.append(max(first, article.doc_id))
        finder.add(new_texts)
        bar.update(len(shard))
    bar.close()
    return survey


def _near_pairs(survey: _Survey, finder: NearDuplicateFinder) -> list[NearDuplicatePair]:
    pairs = []
    for key_a, key_b, score in finder.pairs():
        a, b = sorted((survey.kept[survey.key_sha[key_a]], survey.kept[survey.key_sha[key_b]]))
        pairs.append(NearDuplicatePair(a, b, score))
    return sorted(pairs, key=lambda p: (p.a, p.b))


def _write(config: CorpusConfig, survey: _Survey, splits: dict[str, str], group_of: dict[str, str], notes: dict) -> int:
    writer = CorpusWriter(config.output)
    try:
        with tqdm(total=len(splits), desc="corpus: write", unit="article", disable=None) as bar:
            # The second pass: what the first pass said about the sources is not said again.
            for shard in iter_shards(config.sources, config.shard_size, say_fields=False):
                for a in shard:
                    if splits.get(a.doc_id) is None or survey.kept.get(text_sha256(a.text)) != a.doc_id:
                        continue
                    # Taken out so that a second copy under the same id is not written twice.
                    split = splits.pop(a.doc_id)
                    row = {"doc_id": a.doc_id, "text": a.text, "sha256": text_sha256(a.text), "split": split,
                           "group": group_of[a.doc_id], "source": a.source, "date": a.date, "meta": dumps_meta(a.meta)}
                    writer.write(row)
                    bar.update(1)
        if splits:
            missing = sorted(splits)[:3]
            raise WorkbenchError(f"the sources changed during the build ({', '.join(missing)} ... no longer found); run it again")
    except BaseException:
        writer.abandon()
        raise
    writer.finish(notes)
    return writer.count


def _note_unfinished_build(config: CorpusConfig) -> None:
    """Say so when the build in place was made with another lock file: a build stopped after saving the lock, or the lock changed."""
    notes_path = Path(config.output) / BUILD_NOTES
    if not notes_path.exists() or not Path(config.splits_file).exists():
        return
    try:
        notes = json.loads(notes_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a damaged note only loses this warning: the build replaces it
        return
    if not isinstance(notes, dict) or notes.get("splits_file") != config.splits_file:
        return
    if notes.get("splits_sha256") != sha256_of_files([config.splits_file]):
        log.warning(
            "%s was built with another %s (a build stopped after saving the lock file, or the lock file was changed): "
            "this build brings them together",
            config.output, config.splits_file,
        )


def build_corpus(config: CorpusConfig) -> BuildResult:
    _note_unfinished_build(config)
    finder = NearDuplicateFinder(config.minhash())
    survey = _survey(config, finder)
    if not survey.seen:
        raise WorkbenchError(f"no articles found in {', '.join(config.sources)}")
    pairs = _near_pairs(survey, finder)
    del finder
    groups = group_articles(survey.kept.values(), pairs, config.keep_together)
    previous = load_assignments(config.splits_file)
    splits = assign_splits(groups, previous, config.ratios, config.seed)
    counts = {name: sum(1 for s in splits.values() if s == name) for name in ("train", "dev", "test")}
    # Stored so that later steps (cross-validation folds) keep a group together without recomputing it.
    group_of = {doc_id: name for name, members in groups.items() for doc_id in members}
    # The lock file first, the build after it. The lock only gains entries, so at every moment each
    # article of the build in place (old or new) has its split locked; a build killed in between
    # leaves new articles locked before they are built, and the next build gives them those splits.
    # Articles that left the corpus keep their lock entry, so they return to the same split if they come back.
    save_assignments(config.splits_file, {**previous, **splits}, config.ratios, config.seed)
    notes = {"splits_file": config.splits_file, "splits_sha256": sha256_of_files([config.splits_file])}
    documents = _write(config, survey, dict(splits), group_of, notes)
    return BuildResult(documents, counts, survey.exact_duplicates(), pairs, len(groups))
