"""`workbench corpus bench N`: build a synthetic corpus with planted near-duplicates and measure speed, memory and accuracy.

The build runs in a child process of its own, which reports its own peak
resident set, so the build's peak memory is not mixed up with the generator's
(nor, under pytest, with other child processes').
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

from workbench.corpus.build import BuildResult, CorpusConfig, build_corpus
from workbench.corpus.dedupe import UnionFind
from workbench.corpus.split import load_assignments
from workbench.corpus.synthetic import article_id, number_of, write_synthetic_corpus


@dataclass(frozen=True)
class CorpusBench:
    articles: int
    planted_pairs: int
    found_pairs: int
    true_pairs: int
    planted_pairs_in_one_split: int
    mixed_groups: int
    generate_seconds: float
    build_seconds: float
    build_peak_bytes: int
    bench_peak_bytes: int
    cpus: int
    load_before: float
    load_after: float

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.build_seconds

    @property
    def recall(self) -> float:
        return self.true_pairs / self.planted_pairs if self.planted_pairs else 1.0

    @property
    def precision(self) -> float:
        return self.true_pairs / self.found_pairs if self.found_pairs else 1.0


def _maxrss_bytes(who: int) -> int:
    return resource.getrusage(who).ru_maxrss * 1024  # Linux reports KiB


@dataclass(frozen=True)
class Measured:
    """What a function returned in a child process, and that process's peak resident memory."""

    value: Any
    peak_bytes: int


def _peak_resident_bytes() -> int:
    """This process's peak resident set since it was started (VmHWM).

    Not getrusage's ru_maxrss: across exec the kernel keeps the maximum, so a
    spawned child's figure would start from its parent's resident set at fork.
    Processes the build would start are not counted (it starts none).
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise RuntimeError("no VmHWM in /proc/self/status")


def _call_and_measure(function: Callable, args: tuple) -> Measured:
    value = function(*args)
    return Measured(value, _peak_resident_bytes())


def run_measured(function: Callable, *args) -> Measured:
    """Call `function(*args)` in a fresh (spawned) process and measure its peak resident memory."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_call_and_measure, function, args).result()


def bench_corpus(
    count: int, config: CorpusConfig, duplicate_share: float = 0.05, seed: int = 0, work_dir: str | Path | None = None
) -> CorpusBench:
    """Generate `count` articles, build them with `config`'s near-duplicate settings, and score the planted pairs."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="corpus-bench-", dir=work_dir) as tmp:
        started = time.perf_counter()
        synthetic = write_synthetic_corpus(Path(tmp) / "raw", count, duplicate_share, seed)
        generate_seconds = time.perf_counter() - started
        config = config.copy(update={
            "sources": [str(Path(tmp) / "raw")],
            "output": str(Path(tmp) / "build"),
            "splits_file": str(Path(tmp) / "splits.json"),
            "keep_together": [],
        })
        started = time.perf_counter()
        build = run_measured(build_corpus, config)
        result: BuildResult = build.value
        build_seconds = time.perf_counter() - started
        splits = load_assignments(config.splits_file)

    families = synthetic.families
    found = [(number_of(p.a), number_of(p.b)) for p in result.near_duplicate_pairs]
    true_pairs = sum(1 for a, b in found if families[a] == families[b])
    # A group joins unrelated articles exactly when one of its pairs does; count such groups.
    groups = UnionFind({n for pair in found for n in pair})
    for a, b in found:
        groups.union(a, b)
    mixed = {groups.find(a) for a, b in found if families[a] != families[b]}
    members: dict[int, list[int]] = {}
    for number, family in enumerate(families.tolist()):
        members.setdefault(family, []).append(number)
    families_with_copies = [m for m in members.values() if len(m) > 1]
    in_one_split = sum(
        len(m) * (len(m) - 1) // 2 for m in families_with_copies if len({splits[article_id(n)] for n in m}) == 1
    )
    return CorpusBench(
        articles=count,
        planted_pairs=sum(len(m) * (len(m) - 1) // 2 for m in families_with_copies),
        found_pairs=len(found),
        true_pairs=true_pairs,
        planted_pairs_in_one_split=in_one_split,
        mixed_groups=len(mixed),
        generate_seconds=generate_seconds,
        build_seconds=build_seconds,
        build_peak_bytes=build.peak_bytes,
        bench_peak_bytes=_maxrss_bytes(resource.RUSAGE_SELF),
        cpus=os.cpu_count() or 1,
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )
