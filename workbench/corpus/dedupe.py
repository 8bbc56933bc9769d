"""Find exact and near-duplicate articles, streaming, and group them so that a group never straddles two splits.

Near-duplicates are found with MinHash LSH (rensa): each article becomes a
MinHash signature of its word shingles, the LSH index proposes candidates that
share a band, and a candidate pair is kept when the signatures estimate a
Jaccard similarity at or above the threshold. Only the signatures stay in
memory, never the texts, so a corpus is read one shard at a time.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from workbench.errors import WorkbenchError

# A fixed seed: the same articles give the same signatures, pairs and groups.
MINHASH_SEED = 20240531
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation + "“”‘’—–…«»"})


@dataclass(frozen=True)
class ExactDuplicate:
    dropped: str
    kept: str
    source: str


@dataclass(frozen=True)
class NearDuplicatePair:
    """Two kept articles (a < b by id) whose estimated Jaccard similarity is `score`."""

    a: str
    b: str
    score: float

    def __iter__(self):
        # Unpacks as (a, b, score), as the pairs did before they had a name.
        return iter((self.a, self.b, self.score))


@dataclass(frozen=True)
class MinHashSettings:
    """How near-duplicates are found: Jaccard threshold on word shingles, signature size, LSH bands."""

    threshold: float = 0.5
    num_perm: int = 128
    bands: int = 32
    shingle_size: int = 3

    def check(self) -> "MinHashSettings":
        if not 0 < self.threshold <= 1:
            raise WorkbenchError(f"near_duplicate_threshold must be in (0, 1], not {self.threshold}")
        if self.num_perm < 1 or self.bands < 1 or self.num_perm % self.bands:
            raise WorkbenchError(
                f"minhash_num_perm ({self.num_perm}) must be a positive multiple of minhash_bands ({self.bands})"
            )
        if self.shingle_size < 1:
            raise WorkbenchError(f"shingle_size must be at least 1, not {self.shingle_size}")
        return self


def shingles(text: str, size: int) -> list[str]:
    """Word `size`-grams of the lower-cased text with punctuation removed (the whole text if it has fewer words)."""
    words = text.lower().translate(_PUNCTUATION).split()
    if len(words) <= size:
        # A text of punctuation only still gets a token, so two such texts are not "identical" empty sets.
        return [" ".join(words) or text.strip()]
    if size == 1:
        return words
    return [" ".join(gram) for gram in zip(*(words[i:] for i in range(size)))]


class NearDuplicateFinder:
    """Streaming MinHash LSH: add texts shard by shard under integer keys 0, 1, 2, ...; read the pairs at the end.

    Each new text is queried against everything added before it, so every pair is
    found once, by its later member.
    """

    def __init__(self, settings: MinHashSettings):
        from rensa import RMinHashLSH

        self.settings = settings
        self._lsh = RMinHashLSH(settings.threshold, settings.num_perm, settings.bands)
        self._signatures: list[np.ndarray] = []
        self._starts: list[int] = []
        self._size = 0
        self._pairs: list[tuple[int, int, float]] = []

    def __len__(self) -> int:
        return self._size

    def add(self, texts: list[str]) -> int:
        """Index one shard of texts; returns the key of its first text."""
        first = self._size
        # Shingle lists take ~60 bytes a word: sketch a thousand texts at a time, whatever the shard size.
        for start in range(0, len(texts), 1000):
            self._add_batch(texts[start : start + 1000])
        return first

    def _add_batch(self, texts: list[str]) -> None:
        from rensa import RMinHash

        s = self.settings
        first = self._size
        minhashes = RMinHash.from_token_sets([shingles(t, s.shingle_size) for t in texts], s.num_perm, MINHASH_SEED)
        block = np.array([m.digest() for m in minhashes], dtype=np.uint32)
        self._signatures.append(block)
        self._starts.append(first)
        for offset, minhash in enumerate(minhashes):
            key = first + offset
            for other in self._lsh.query(minhash):
                score = float(np.mean(self._signature(other) == block[offset]))
                if score >= s.threshold:
                    self._pairs.append((int(other), key, round(score, 4)))
            self._lsh.insert(key, minhash)
        self._size += len(texts)

    def _signature(self, key: int) -> np.ndarray:
        shard = int(np.searchsorted(self._starts, key, side="right")) - 1
        return self._signatures[shard][key - self._starts[shard]]

    def pairs(self) -> list[tuple[int, int, float]]:
        """(earlier key, later key, estimated Jaccard) for every pair at or above the threshold."""
        return sorted(self._pairs)


class UnionFind:
    def __init__(self, items):
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller id becomes the root so that group names are deterministic.
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for item in self.parent:
            out.setdefault(self.find(item), []).append(item)
        return {root: sorted(members) for root, members in sorted(out.items())}


def group_articles(
    ids, pairs: list[NearDuplicatePair], keep_together: list[list[str]] | None = None
) -> dict[str, list[str]]:
    """Group ids that are near-duplicates or listed together under keep_together."""
    finder = UnionFind(ids)
    for pair in pairs:
        finder.union(pair.a, pair.b)
    for linked in keep_together or []:
        present = [doc_id for doc_id in linked if doc_id in finder.parent]
        for other in present[1:]:
            finder.union(present[0], other)
    return finder.groups()
