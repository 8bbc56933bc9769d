"""Synthetic news-like articles with planted near-duplicates, written as JSONL shards (for `workbench corpus bench`).

Words are drawn from a large vocabulary with a Zipf-Mandelbrot law, as in
natural text (frequent words short, most words rare); lengths follow a
log-normal law within 300-700 words; sentences and paragraphs are punctuated.
A planted near-duplicate is a copy of an earlier article with 5-10% of its
words edited (replaced, deleted or inserted). Everything is seeded.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

SYLLABLES = "ba ko ri tan mel sor vi de lu pra nek os ta gri fel um zo char pin el mar ost ven qui".split()
VOCABULARY = 100_000
MIN_WORDS, MAX_WORDS, MEDIAN_WORDS = 300, 700, 480
EDIT_SHARE = (0.05, 0.10)
# Copies are made of one of the last RECENT originals: wire stories come back within days.
RECENT = 5000
SHARD = 50_000
GUIDE = 1 << 20


@dataclass(frozen=True)
class SyntheticCorpus:
    """The written shards, and per article (by its running number) the family: an original and its copies share one."""

    files: list[Path]
    families: np.ndarray


def article_id(number: int) -> str:
    return f"syn{number:08d}"


def number_of(doc_id: str) -> int:
    return int(doc_id[3:])


def vocabulary(size: int = VOCABULARY) -> list[str]:
    """Distinct pseudo-words: rank r spelled in base-len(SYLLABLES) syllables, so frequent words are short."""
    base = len(SYLLABLES)
    words = []
    for rank in range(size):
        digits, n = [], rank + base  # + base: every word has at least two syllables
        while n:
            n, d = divmod(n, base)
            digits.append(SYLLABLES[d])
        words.append("".join(reversed(digits)))
    return words


class ArticleMaker:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.words = np.array(vocabulary(), dtype=object)
        ranks = np.arange(1, VOCABULARY + 1)
        weights = 1.0 / (ranks + 2.7) ** 1.07
        self.cdf = np.cumsum(weights) / weights.sum()
        # A guide table for inverse-CDF sampling: for u in [k/GUIDE, (k+1)/GUIDE) the word is
        # between guide[k] and guide[k+1], and for most u (the frequent words) those agree.
        # Exactly searchsorted's answer (GUIDE is a power of two, so u * GUIDE is exact), at a
        # fraction of its cost: searchsorted over 100,000 ranks was the generator's top cost.
        self.guide = np.searchsorted(self.cdf, np.arange(GUIDE + 1) / GUIDE).astype(np.int32)

    def draw(self, count: int) -> np.ndarray:
        u = self.rng.random(count)
        bucket = (u * GUIDE).astype(np.int64)
        words = self.guide[bucket].astype(np.int64)
        unsure = np.flatnonzero(words != self.guide[bucket + 1])
        words[unsure] = np.searchsorted(self.cdf, u[unsure])
        return words.clip(max=VOCABULARY - 1)

    def length(self) -> int:
        while True:
            n = int(self.rng.lognormal(np.log(MEDIAN_WORDS), 0.25))
            if MIN_WORDS <= n <= MAX_WORDS:
                return n

    def original(self) -> tuple[np.ndarray, int]:
        """Word indices and the seed of the article's sentence layout."""
        return self.draw(self.length()), int(self.rng.integers(2**31))

    def edited(self, words: np.ndarray) -> np.ndarray:
        share = self.rng.uniform(*EDIT_SHARE)
        edits = max(1, round(share * len(words)))
        positions = self.rng.choice(len(words), size=edits, replace=False)
        kinds = self.rng.random(edits)
        out = words.copy()
        replaced = positions[(kinds >= 0.2) & (kinds <= 0.8)]
        out[replaced] = self.draw(len(replaced))
        deleted = positions[kinds < 0.2]
        inserted = positions[kinds > 0.8]
        out = np.insert(out, inserted, self.draw(len(inserted)))
        # Positions shift after the insertions; deleting at the shifted spots keeps the share of edits.
        shifted = deleted + np.searchsorted(np.sort(inserted), deleted, side="right")
        return np.delete(out, shifted)

    def render(self, words: np.ndarray, layout_seed: int) -> str:
        """Sentences of 8-30 words, with a comma in those longer than 12, in paragraphs of 2-5 sentences.

        The layout comes from layout_seed alone, so a copy is laid out like its
        original. It is drawn in three array calls and the text joined once per
        paragraph: the per-sentence draws and joins this replaced were most of
        the generator's time.
        """
        layout = np.random.default_rng(layout_seed)
        count = len(words)
        # Enough sentence lengths for any text: every sentence has at least 8 words.
        ends = np.cumsum(layout.integers(8, 31, size=count // 8 + 1))
        ends = ends[: int(np.searchsorted(ends, count)) + 1]
        ends[-1] = count
        commas = layout.random(len(ends))
        paragraph_ends = np.cumsum(layout.integers(2, 6, size=len(ends)))
        tokens = self.words[words].tolist()
        start = 0
        for end, comma in zip(ends.tolist(), commas.tolist()):
            length = end - start
            tokens[start] = tokens[start].capitalize()
            if length > 12:
                tokens[start + 4 + int(comma * (length - 8))] += ","  # not among the first or last 4 words
            tokens[end - 1] += "."
            start = end
        starts = [0, *ends.tolist()]
        paragraphs = []
        first = 0
        for last in paragraph_ends.tolist():
            last = min(last, len(ends))
            paragraphs.append(" ".join(tokens[starts[first] : starts[last]]))
            first = last
            if last == len(ends):
                break
        return "\n\n".join(paragraphs)


def write_synthetic_corpus(folder: str | Path, count: int, duplicate_share: float = 0.05, seed: int = 0) -> SyntheticCorpus:
    """Write `count` articles, about `duplicate_share` of them planted near-duplicates, as JSONL shards in `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    maker = ArticleMaker(seed)
    families = np.empty(count, dtype=np.int64)
    recent: deque[tuple[int, np.ndarray, int]] = deque(maxlen=RECENT)
    files: list[Path] = []
    out = None
    for number in tqdm(range(count), desc="synthetic articles", unit="article", disable=None):
        if number % SHARD == 0:
            if out:
                out.close()
            files.append(folder / f"articles-{len(files):04d}.jsonl")
            out = open(files[-1], "w", encoding="utf-8")
        if recent and maker.rng.random() < duplicate_share:
            family, words, layout_seed = recent[int(maker.rng.integers(len(recent)))]
            words = maker.edited(words)
        else:
            family = number
            words, layout_seed = maker.original()
            recent.append((family, words, layout_seed))
        families[number] = family
        out.write(json.dumps({"id": article_id(number), "text": maker.render(words, layout_seed)}) + "\n")
    if out:
        out.close()
    return SyntheticCorpus(files, families)
