"""Benchmarks against a Doccano server: push and pull throughput, and a load test of concurrent annotators.

`run_bench` pushes and pulls N synthetic articles with pre-annotations, in
documents per second. `run_load` has N annotators (each a Doccano user of its
own, each with its own threads and sessions) label spans and relations and
confirm documents through the REST API for a bounded time, then pulls a
snapshot and counts every label they made that is not in it. Each works in a
project of its own, made afresh each run and deleted afterwards, and pulls into
a temporary folder. `load_on_new_server` runs the load test on a throwaway
server (SQLite or its own PostgreSQL) in a temporary folder.
"""

from __future__ import annotations

import random
import secrets
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from workbench.annotation_files import ANNOTATOR_DIR
from workbench.doccano.annotators import ensure_member
from workbench.doccano.client import DoccanoSession, connect
from workbench.doccano.config import Credentials
from workbench.doccano.database import DatabaseChoice
from workbench.doccano.pull import pull
from workbench.doccano.push import Article, ensure_project, push_articles, records_predictor
from workbench.doccano.server import down, free_port, server_paths, up
from workbench.errors import WorkbenchError
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc, Entity, Relation, read_records

BENCH_PROJECT = "workbench-bench"
LOAD_PROJECT = "workbench-load"
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


def synthetic_articles(n: int, seed: int = 0, sentences: int = 6) -> tuple[list[Article], list[AnnotatedDoc]]:
    rng = random.Random(seed)
    pairs = [synthetic_article(i, rng, sentences) for i in range(n)]
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


# Load test: concurrent annotators


@dataclass(frozen=True)
class LoadResult:
    database: str
    annotators: int
    threads: int  # per annotator
    seconds: float  # the annotation phase, from the first request to the last answer
    requests: int  # writes sent: spans, relations and confirmations
    errors: int
    error_samples: tuple[str, ...]
    confirmed: int  # documents confirmed, over all annotators
    spans: int  # spans and relations Doccano acknowledged
    relations: int
    spans_lost: int  # acknowledged but missing from the pulled snapshot
    relations_lost: int
    confirmations_lost: int
    unexpected: int  # labels in the snapshot that no acknowledged request made

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def lost(self) -> int:
        return self.spans_lost + self.relations_lost + self.confirmations_lost


@dataclass
class _Made:
    """What one annotator's threads made, as Doccano acknowledged it, keyed by position so that a pull can be compared."""

    spans: set = field(default_factory=set)  # (doc_id, start, end, label)
    relations: set = field(default_factory=set)  # (doc_id, (head start, end), (tail start, end), type)
    confirmed: set = field(default_factory=set)  # doc_id
    requests: int = 0
    errors: list = field(default_factory=list)


def _annotate(session: DoccanoSession, project_id: int, work: list[tuple[int, AnnotatedDoc]], deadline: float, made: _Made,
              lock: threading.Lock) -> None:
    """Label each document's entities and relations, then confirm it, until the work or the time runs out."""

    def send(request: Callable[[], object]) -> bool:
        """Send one write; False if Doccano refused it (counted as an error). Past the deadline, stop."""
        if time.monotonic() >= deadline:
            raise TimeoutError
        try:
            request()
            return True
        except WorkbenchError as exc:
            with lock:
                made.errors.append(str(exc))
            return False
        finally:
            with lock:
                made.requests += 1

    try:
        for example_id, doc in work:
            by_id = doc.entity_by_id()
            span_ids: dict = {}
            for e in doc.entities:
                def create_span(e: Entity = e) -> None:
                    span_ids[e.id] = session.create_span(project_id, example_id, e.label, e.start, e.end)

                if send(create_span):
                    with lock:
                        made.spans.add((doc.doc_id, e.start, e.end, e.label))
            for r in doc.relations:
                if r.head not in span_ids or r.tail not in span_ids:
                    continue
                if send(lambda r=r: session.create_relation(project_id, example_id, span_ids[r.head], span_ids[r.tail], r.type)):
                    head, tail = by_id[r.head], by_id[r.tail]
                    with lock:
                        made.relations.add((doc.doc_id, (head.start, head.end), (tail.start, tail.end), r.type))
            if send(lambda: session.toggle_confirmed(project_id, example_id)):
                with lock:
                    made.confirmed.add(doc.doc_id)
    except TimeoutError:
        pass


def _pulled(record: AnnotatedDoc) -> tuple[set, set]:
    by_id = record.entity_by_id()
    spans = {(record.doc_id, e.start, e.end, e.label) for e in record.entities}
    relations = {
        (record.doc_id, (by_id[r.head].start, by_id[r.head].end), (by_id[r.tail].start, by_id[r.tail].end), r.type)
        for r in record.relations
    }
    return spans, relations


def run_load(admin: DoccanoSession, scheme: LabelScheme, annotators: int, seconds: float, threads: int = 1,
             documents: int = 200, database: str = "", batch_size: int = 200, keep: bool = False) -> LoadResult:
    """N annotators, each with `threads` threads over their share of the same documents, for at most `seconds`.

    Every annotator labels every document (threads split an annotator's
    documents), so several users write to one example at once. The users are
    new, named bench-<run>-<i> with passwords kept in memory only (Doccano's API
    cannot delete users, so they stay on the server).
    """
    if annotators < 1 or threads < 1 or seconds <= 0 or documents < 1:
        raise WorkbenchError("the load test needs at least one annotator, one thread, one document and some seconds")
    articles, truths = synthetic_articles(documents, sentences=3)
    old = admin.find_project(LOAD_PROJECT)
    if old is not None:
        admin.delete_project(old.id)
    project, _ = ensure_project(admin, LOAD_PROJECT, "Load test of concurrent annotators.", "Synthetic articles.", scheme)
    try:
        push_articles(admin, project, articles, None, batch_size)
        example_of = {e.doc_id: e.id for e in admin.examples(project.id)}
        work = [(example_of[t.doc_id], t) for t in truths]
        run = secrets.token_hex(3)
        sessions: dict[str, list[DoccanoSession]] = {}
        for number in range(1, annotators + 1):
            name, password = f"bench-{run}-{number}", secrets.token_urlsafe(18)
            admin.create_user(name, password)
            ensure_member(admin, project.id, name, "annotator")
            credentials = Credentials(admin.url, name, password)
            sessions[name] = [connect(credentials, admin.timeout, admin.task_timeout) for _ in range(threads)]
        made = {name: _Made() for name in sessions}
        lock = threading.Lock()
        started = time.monotonic()
        deadline = started + seconds
        with ThreadPoolExecutor(max_workers=annotators * threads) as pool:
            jobs = [pool.submit(_annotate, session, project.id, work[t::threads], deadline, made[name], lock)
                    for name, own in sessions.items() for t, session in enumerate(own)]
            for job in jobs:
                job.result()
        elapsed = time.monotonic() - started
        with tempfile.TemporaryDirectory(prefix="workbench-load-") as tmp:
            result = pull(admin, LOAD_PROJECT, Path(tmp), scheme, name="load", include_unconfirmed=True, allow_invalid=True)
            snapshot = {name: read_records(result.path / ANNOTATOR_DIR / f"{name}.jsonl")
                        for name in sessions if (result.path / ANNOTATOR_DIR / f"{name}.jsonl").exists()}
    finally:
        if not keep:
            admin.delete_project(project.id)
    lost = {"spans": 0, "relations": 0, "confirmed": 0}
    unexpected = 0
    for name, mine in made.items():
        spans, relations, confirmed = set(), set(), set()
        for record in snapshot.get(name, []):
            record_spans, record_relations = _pulled(record)
            spans |= record_spans
            relations |= record_relations
            if record.meta.get("confirmed"):
                confirmed.add(record.doc_id)
        lost["spans"] += len(mine.spans - spans)
        lost["relations"] += len(mine.relations - relations)
        lost["confirmed"] += len(mine.confirmed - confirmed)
        unexpected += len(spans - mine.spans) + len(relations - mine.relations) + len(confirmed - mine.confirmed)
    errors = [message for mine in made.values() for message in mine.errors]
    return LoadResult(
        database, annotators, threads, elapsed, sum(m.requests for m in made.values()), len(errors), tuple(errors[:3]),
        sum(len(m.confirmed) for m in made.values()), sum(len(m.spans) for m in made.values()),
        sum(len(m.relations) for m in made.values()), lost["spans"], lost["relations"], lost["confirmed"], unexpected,
    )


def load_on_new_server(kind: str, venv: Path, constraints: Path, load: Callable[[DoccanoSession, str], LoadResult],
                       workers: int = 2, concurrency: int = 1, timeout: float = 60.0) -> LoadResult:
    """Start a throwaway Doccano on `kind` (sqlite or postgresql) in a temporary folder, run `load` on it, stop it."""
    choice = DatabaseChoice(kind)
    with tempfile.TemporaryDirectory(prefix=f"workbench-load-{kind}-") as tmp:
        paths = server_paths(tmp, venv)
        password = secrets.token_urlsafe(18)
        try:
            url = up(paths, constraints, free_port(), "admin", password, workers, concurrency, database=choice)
            return load(connect(Credentials(url, "admin", password), timeout), choice.label)
        finally:
            down(paths)
