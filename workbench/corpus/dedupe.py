"""Drop exact duplicates and group near-duplicates so that a group never straddles two splits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from workbench.corpus.ingest import RawArticle


@dataclass
class ExactDuplicate:
    dropped: str
    kept: str
    source: str


def drop_exact_duplicates(articles: list[RawArticle]) -> tuple[list[RawArticle], list[ExactDuplicate]]:
    """Keep the first article of each text (articles are processed in id order)."""
    kept: dict[str, RawArticle] = {}
    duplicates = []
    for article in sorted(articles, key=lambda a: a.doc_id):
        first = kept.get(article.sha256)
        if first is None:
            kept[article.sha256] = article
        else:
            duplicates.append(ExactDuplicate(article.doc_id, first.doc_id, article.source))
    return sorted(kept.values(), key=lambda a: a.doc_id), duplicates


class UnionFind:
    def __init__(self, items: list[str]):
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


def near_duplicate_pairs(
    articles: list[RawArticle], threshold: float, chunk_size: int = 1000
) -> list[tuple[str, str, float]]:
    """Pairs of articles whose TF-IDF cosine similarity is at least `threshold`.

    Works in chunks of rows so that 100k articles need no dense n-by-n matrix.
    """
    if len(articles) < 2:
        return []
    matrix = TfidfVectorizer(sublinear_tf=True, dtype=np.float32).fit_transform([a.text for a in articles])
    pairs = []
    for start in range(0, matrix.shape[0], chunk_size):
        block = (matrix[start : start + chunk_size] @ matrix.T).tocoo()
        for row, col, score in zip(block.row, block.col, block.data):
            i = start + int(row)
            if i < col and score >= threshold:
                pairs.append((articles[i].doc_id, articles[int(col)].doc_id, round(float(score), 4)))
    return pairs


def group_articles(
    articles: list[RawArticle], threshold: float, keep_together: list[list[str]] | None = None
) -> tuple[dict[str, list[str]], list[tuple[str, str, float]]]:
    """Group ids by near-duplicate text and by the configured keep-together lists."""
    ids = [a.doc_id for a in articles]
    known = set(ids)
    finder = UnionFind(ids)
    pairs = near_duplicate_pairs(articles, threshold)
    for a, b, _ in pairs:
        finder.union(a, b)
    for linked in keep_together or []:
        present = [doc_id for doc_id in linked if doc_id in known]
        for other in present[1:]:
            finder.union(present[0], other)
    return finder.groups(), pairs
