"""Benchmark: push and pull N synthetic articles with pre-annotations against a Doccano server, in documents per second.

It works in a project of its own (`workbench-bench`), made afresh each run and
deleted afterwards, and pulls into a temporary folder, so it leaves no trace.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.doccano.client import DoccanoSession
from workbench.doccano.pull import pull
from workbench.doccano.push import Article, ensure_project, push_articles, records_predictor
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc, Entity, Relation

BENCH_PROJECT = "workbench-bench"
_FIRST = ("Hakan", "Abbas", "George", "Yvette", "Tom", "Maria", "Sergei", "Li", "Amina", "Pedro")
_LAST = ("Fidan", "Araghchi", "Gerapetritis", "Cooper", "Barrack", "Silva", "Ivanov", "Wei", "Yusuf", "Santos")
_ROLES = ("Foreign Minister", "Prime Minister", "Ambassador", "Defence Minister", "Special Envoy")
_PLACES = ("Ankara", "Tehran", "Athens", "London", "Doha", "Lisbon", "Cairo", "Oslo")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@dataclass(frozen=True)
class BenchResult:
    documents: int
    push_seconds: float
    pull_seconds: float
    pulled: int

    @property
    def push_rate(self) -> float:
        return self.documents / self.push_seconds if self.push_seconds else 0.0

    @property
    def pull_rate(self) -> float:
        return self.pulled / self.pull_seconds if self.pull_seconds else 0.0


class _Writer:
    """Builds a text and its entity offsets piece by piece."""

    def __init__(self):
        self.text = ""
        self.entities: list[Entity] = []

    def add(self, piece: str, label: str | None = None) -> int | None:
        start = len(self.text)
        self.text += piece
        if label is None:
            return None
        self.entities.append(Entity(len(self.entities) + 1, label, start, start + len(piece)))
        return len(self.entities)


def synthetic_article(number: int, rng: random.Random, sentences: int = 6) -> tuple[Article, AnnotatedDoc]:
    """One article of meeting reports with its entities and relations (valid under the default label scheme)."""
    out = _Writer()
    relations: list[Relation] = []
    for _ in range(sentences):
        role = out.add(rng.choice(_ROLES), "ROLE")
        out.add(" ")
        host = out.add(f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", "PERSON")
        out.add(" met ")
        guest = out.add(f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", "PERSON")
        out.add(" in ")
        out.add(rng.choice(_PLACES), "GPE")
        out.add(" on ")
        out.add(rng.choice(_DAYS), "DATE")
        out.add(".\n")
        relations.append(Relation(len(relations) + 1, host, role, "HAS_ROLE"))
        relations.append(Relation(len(relations) + 1, host, guest, "MET"))
    doc_id = f"bench_{number:06d}"
    article = (doc_id, out.text, {"split": "train"})
    return article, AnnotatedDoc(doc_id, out.text, out.entities, relations)


def synthetic_articles(n: int, seed: int = 0) -> tuple[list[Article], list[AnnotatedDoc]]:
    rng = random.Random(seed)
    pairs = [synthetic_article(i, rng) for i in range(n)]
    return [a for a, _ in pairs], [r for _, r in pairs]


def run_bench(session: DoccanoSession, n: int, scheme: LabelScheme, batch_size: int = 200, keep: bool = False) -> BenchResult:
    """Push N articles with pre-annotations, then pull them (unconfirmed included), timing each."""
    articles, predictions = synthetic_articles(n)
    old = session.find_project(BENCH_PROJECT)
    if old is not None:
        session.delete_project(old.id)
    project, _ = ensure_project(session, BENCH_PROJECT, "Benchmark of workbench push and pull.", "Synthetic articles.", scheme)
    try:
        started = time.perf_counter()
        push_articles(session, project, articles, records_predictor(predictions), batch_size)
        pushed = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="workbench-bench-") as tmp:
            result = pull(session, BENCH_PROJECT, Path(tmp), scheme, name="bench", include_unconfirmed=True)
        pulled = time.perf_counter()
    finally:
        if not keep:
            session.delete_project(project.id)
    documents = sum(c["documents"] for c in (result.manifest or {}).get("counts", {}).values())
    return BenchResult(n, pushed - started, pulled - pushed, documents)
