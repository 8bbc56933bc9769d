"""Find exact and near-duplicate articles, streaming, and group them so that a group never straddles two splits.

Near-duplicates are found with MinHash LSH: each article becomes a MinHash
signature of its word shingles (rensa), articles equal on one band of their
signatures are candidates (a numpy sort per band), and a candidate pair is kept
when the signatures estimate a Jaccard similarity at or above the threshold.
Only the signatures stay in memory, never the texts, so a corpus is read one
shard at a time.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
from rensa import RMinHash

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

    rensa computes the signatures; they are kept as one uint32 row per text
    (512 bytes at 128 permutations) and nothing else. The LSH banding runs at
    the end, one band at a time, over numpy arrays: texts whose band rows are
    equal are candidates, and a candidate pair is kept when its signatures
    agree on at least the threshold's share of positions. An LSH index of
    Python or Rust objects per text and band cost about 2.6 KB a text, the
    largest part of a million-article build's memory.
    """

    _CHUNK_BITS = 16  # signatures live in chunks of 65,536 rows: growing never copies them

    def __init__(self, settings: MinHashSettings):
        self.settings = settings
        self._chunks: list[np.ndarray] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, texts: list[str]) -> int:
        """Sketch one shard of texts; returns the key of its first text."""
        first = self._size
        # Shingle lists take ~60 bytes a word: sketch a thousand texts at a time, whatever the shard size.
        for start in range(0, len(texts), 1000):
            self._add_batch(texts[start : start + 1000])
        return first

    def _add_batch(self, texts: list[str]) -> None:
        s = self.settings
        minhashes = RMinHash.from_token_sets([shingles(t, s.shingle_size) for t in texts], s.num_perm, MINHASH_SEED)
        block = np.array([m.digest() for m in minhashes], dtype=np.uint32).reshape(len(texts), s.num_perm)
        chunk_rows = 1 << self._CHUNK_BITS
        while len(block):
            row = self._size % chunk_rows
            if row == 0:
                self._chunks.append(np.empty((chunk_rows, s.num_perm), dtype=np.uint32))
            taken = block[: chunk_rows - row]
            self._chunks[-1][row : row + len(taken)] = taken
            self._size += len(taken)
            block = block[len(taken) :]

    def signatures(self, keys: np.ndarray) -> np.ndarray:
        """The signature rows of `keys`, in their order."""
        keys = np.asarray(keys, dtype=np.int64)
        out = np.empty((len(keys), self.settings.num_perm), dtype=np.uint32)
        chunk_of = keys >> self._CHUNK_BITS
        for chunk in np.unique(chunk_of).tolist():
            mine = chunk_of == chunk
            out[mine] = self._chunks[chunk][keys[mine] & ((1 << self._CHUNK_BITS) - 1)]
        return out

    def _band(self, band: int) -> np.ndarray:
        rows = self.settings.num_perm // self.settings.bands
        columns = slice(band * rows, (band + 1) * rows)
        return np.concatenate([chunk[:, columns] for chunk in self._chunks])[: self._size]

    def candidates(self) -> np.ndarray:
        """(earlier key, later key) rows, sorted and unique, of every pair that is equal on at least one band."""
        found = [np.empty((0, 2), dtype=np.int64)]
        for band in range(self.settings.bands):
            found.append(equal_row_pairs(self._band(band)))
        pairs = np.concatenate(found)
        return np.unique(pairs, axis=0)

    def pairs(self) -> list[tuple[int, int, float]]:
        """(earlier key, later key, estimated Jaccard) for every candidate pair at or above the threshold."""
        candidates = self.candidates()
        out = []
        # Scored 100,000 pairs at a time: two signature rows a pair, 100 MB at 128 permutations.
        for start in range(0, len(candidates), 100_000):
            a, b = candidates[start : start + 100_000].T
            scores = (self.signatures(a) == self.signatures(b)).mean(axis=1)
            keep = scores >= self.settings.threshold
            out.extend(zip(a[keep].tolist(), b[keep].tolist(), np.round(scores[keep], 4).tolist()))
        return out


def equal_row_pairs(rows: np.ndarray) -> np.ndarray:
    """(i, j) with i < j for every two equal rows of `rows`, as an (n, 2) int64 array (LSH's bucket pairs).

    Equal rows are made adjacent by a lexicographic sort; a run of k equal rows
    gives its k(k-1)/2 pairs, taken offset by offset (each row with the row d
    places after it in the run), so the work is the number of pairs. The sort
    is stable, so within a run the indices ascend and i < j.
    """
    if len(rows) < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = np.lexsort(rows.T[::-1])
    ordered = rows[order]
    starts_run = np.concatenate([[True], np.any(ordered[1:] != ordered[:-1], axis=1)])
    run_start = np.flatnonzero(starts_run)
    run_length = np.diff(np.append(run_start, len(rows)))
    # For each position in sorted order: how many rows after it are still in its run.
    rest = np.repeat(run_start + run_length, run_length) - np.arange(len(rows)) - 1
    pairs = []
    positions = np.flatnonzero(rest > 0)
    offset = 1
    while len(positions):
        pairs.append(np.stack([order[positions], order[positions + offset]], axis=1))
        offset += 1
        positions = positions[rest[positions] >= offset]
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    return np.concatenate(pairs).astype(np.int64)


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
