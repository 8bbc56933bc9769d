"""Prediction on Dask distributed: articles in shards, one pipeline per worker, one atomically written file per shard.

Dask rather than Ray: a `LocalCluster` is plain processes started from
Python (no daemon, no ports beyond loopback), the same code runs against any
scheduler address, and Dask's futures give per-shard results and failures
directly.

A shard is `shard_size` consecutive articles of the input; its records go to
`shard-NNNNN.jsonl`, written to a temp file and renamed, so a shard file is
complete or absent. A rerun into the same folder skips the shards that exist,
which is how a run that crashed (a worker killed, a machine lost) is finished.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import shlex
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from tqdm import tqdm

from workbench.errors import WorkbenchError
from workbench.fileio import atomic_open, jsonl_line, remove_stale, write_errors, write_json
from workbench.predict import load_pipeline, predict_records, read_articles
from workbench.records import AnnotatedDoc, iter_records
from workbench.training.encoders import use_device
from workbench.words import count

# (doc_id, text, metadata), as workbench.predict.predict_records takes them.
Article = tuple[str, str, dict]
RUN_FILE = "run.json"
DASK_LOG = "dask.log"
_LOG_FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s: %(message)s"
_PIPELINES: dict[str, object] = {}


@dataclass(frozen=True)
class ShardDone:
    documents: int
    words: int


@dataclass(frozen=True)
class PredictionRun:
    folder: Path
    shards: int
    reused: int
    documents: int
    words: int
    seconds: float
    workers: int

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds else 0.0


def count_words(text: str) -> int:
    return len(text.split())


def shard_path(folder: Path, index: int) -> Path:
    return folder / f"shard-{index:05d}.jsonl"


def predict_shard(model: str, path: str, articles: Sequence[Article], gpu_id: int = -1) -> ShardDone:
    """Runs on a worker: load the pipeline once per worker process (on the GPU gpu_id, -1: CPU), predict the shard, write it atomically."""
    nlp = _PIPELINES.get(model)
    if nlp is None:
        use_device(gpu_id)
        nlp = _PIPELINES[model] = load_pipeline(model)
    with atomic_open(path) as fh:
        for record in predict_records(nlp, articles):
            fh.write(jsonl_line(record.to_dict()))
    return ShardDone(len(articles), sum(count_words(text) for _, text, _ in articles))


@contextmanager
def dask_client(cluster: str, workers: int, log_file: Path | None = None, verbose: bool = False):
    """A client of a LocalCluster of `workers` single-threaded processes on loopback, or of the scheduler at `cluster`.

    Dask's own log (a few dozen INFO lines a run, and a worker's traceback when a task
    fails) goes to `log_file`, from this process and the local workers, or nowhere;
    on the terminal only when `verbose`.
    """
    # Imported here: Dask's `distributed` is slow to import, and only --cluster needs it.
    from distributed import Client, LocalCluster

    with _dask_logging(log_file, verbose):
        if cluster == "local":
            with LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                # Its HTTP server (dashboard, health checks) on loopback too, on a free port.
                dashboard_address="127.0.0.1:0", silence_logs=False if verbose else logging.CRITICAL,
            ) as local, Client(local) as client:
                if log_file is not None and not verbose:
                    client.run(_log_to_file, str(log_file))
                yield client
        else:
            try:
                client = Client(cluster, timeout=30)
            except (OSError, TimeoutError) as exc:
                raise WorkbenchError(f"cannot reach the Dask scheduler at {cluster}: {exc}") from None
            with client:
                yield client


@contextmanager
def _dask_logging(log_file: Path | None, verbose: bool):
    """Dask's loggers in this process (scheduler, nannies, client): into log_file or nowhere, unless verbose."""
    if verbose:
        yield
        return
    logger = logging.getLogger("distributed")
    saved = logger.handlers[:], logger.propagate
    handler = _LogFile(log_file) if log_file is not None else logging.NullHandler()
    logger.handlers, logger.propagate = [handler], False
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved


def _log_to_file(path: str) -> None:
    """Runs on each local worker: its Dask log goes into the run's log file too (the terminal only sees CRITICAL)."""
    logging.getLogger("distributed").addHandler(_LogFile(Path(path)))


class _LogFile(logging.Handler):
    """Appends each record to a log file; never a StreamHandler, which Dask's log silencing turns down.

    A record that cannot be written (a full disk) is dropped without a word: the log is an aid,
    and logging's own fallback would print a traceback on the terminal.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.setFormatter(logging.Formatter(_LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(self.format(record) + "\n")
        except OSError:
            pass


@contextmanager
def _reuse(client):
    # An open client lent by the caller: used, not closed.
    yield client


def shards_folder(output: Path) -> Path:
    """Where `predict -o OUTPUT` keeps its shards: OUT.jsonl.shards for OUT.jsonl; any other name is that folder."""
    return output.with_name(output.name + ".shards") if output.suffix == ".jsonl" else output


def _check_run(folder: Path, settings: dict, overwrite: bool) -> None:
    """Claim the folder for this run. Shards of another run are refused, saying how to finish or replace them;
    a run that left no shard (it failed before any result) blocks nothing."""
    run_file = folder / RUN_FILE
    earlier = json.loads(run_file.read_text(encoding="utf-8")) if run_file.exists() else None
    shards = sorted(folder.glob("shard-*.jsonl"))
    if shards and earlier not in (None, settings) and not overwrite:
        output = folder.with_name(folder.name.removesuffix(".shards")) if folder.name.endswith(".jsonl.shards") else folder
        command = shlex.join(["workbench", "predict", earlier["model"], earlier["source"], "-o", str(output), "--shard-size", str(earlier["shard_size"])])
        raise WorkbenchError(
            f"holds {count(len(shards), 'shard')} of another run (model {earlier['model']}, input {earlier['source']}, "
            f"shard size {earlier['shard_size']}): finish that run with `{command}`, or add --overwrite to predict anew",
            path=folder,
        )
    if overwrite:
        for path in shards:
            path.unlink()
    if earlier != settings:
        write_json(run_file, settings)
    # Temp files of writers that died: never shards, so safe to remove.
    for stale in folder.glob(".shard-*.tmp"):
        stale.unlink(missing_ok=True)


def _shards(articles: Iterable[Article], size: int) -> Iterator[list[Article]]:
    iterator = iter(articles)
    while shard := list(islice(iterator, size)):
        yield shard


def predict_to_shards(
    model: str | Path,
    articles: Iterable[Article],
    folder: str | Path,
    *,
    source: str = "",
    total: int | None = None,
    cluster: str = "local",
    workers: int = 1,
    shard_size: int = 200,
    client=None,
    overwrite: bool = False,
    verbose: bool = False,
    gpu_id: int = -1,
) -> PredictionRun:
    """Predict every article into `folder`/shard-NNNNN.jsonl; shards already there are kept, not redone.

    `client`: an open Dask client to reuse (then `cluster` and `workers` are not used to start one).
    Otherwise the model is loaded here once before any worker starts, so a missing or damaged
    model is one error, and Dask's log goes to `folder`/dask.log (on the terminal if `verbose`).
    `overwrite`: shards of an earlier run in `folder` are removed instead of kept or refused.
    `gpu_id`: the GPU each worker runs its pipeline on (-1: the CPU).
    """
    from distributed import as_completed  # here, as in dask_client: only --cluster needs it

    folder = Path(folder)
    model = str(Path(model).resolve()) if Path(model).exists() else str(model)
    if client is None:
        load_pipeline(model)
    with write_errors(folder):
        folder.mkdir(parents=True, exist_ok=True)
    remove_stale(folder.parent, folder.name)  # an earlier shard folder that a killed run was removing
    _check_run(folder, {"model": model, "source": source, "shard_size": shard_size}, overwrite)
    started = time.perf_counter()
    shards = reused = documents = words = 0
    with (_reuse(client) if client else dask_client(cluster, workers, folder / DASK_LOG, verbose)) as client, tqdm(
        total=total, desc="predict", unit="doc", disable=None
    ) as bar:
        window = 2 * max(1, len(client.scheduler_info()["workers"]))
        pending = as_completed()

        def collect(future) -> None:
            nonlocal documents, words
            try:
                done: ShardDone = future.result()
            except WorkbenchError:
                raise
            except Exception as exc:  # a worker died (KilledWorker) or the cluster went away
                log = f" (Dask's log: {folder / DASK_LOG})" if (folder / DASK_LOG).exists() else ""
                raise WorkbenchError(
                    f"prediction stopped: {type(exc).__name__}: {' '.join(str(exc).split())}{log}. The shards written so far "
                    "are complete and kept; run the same command again to predict only the missing ones",
                    path=folder,
                ) from None
            documents += done.documents
            words += done.words
            bar.update(done.documents)

        for index, shard in enumerate(_shards(articles, shard_size)):
            shards += 1
            path = shard_path(folder, index)
            if path.exists():
                reused += 1
                bar.update(len(shard))
                continue
            pending.add(client.submit(predict_shard, model, str(path), shard, gpu_id, pure=False))
            if pending.count() >= window:
                collect(next(pending))
        for future in pending:
            collect(future)
        used = len(client.scheduler_info()["workers"])
    return PredictionRun(folder, shards, reused, documents, words, time.perf_counter() - started, used)


def read_shards(folder: str | Path) -> Iterator[AnnotatedDoc]:
    """The records of every shard, in shard order (the input order)."""
    for path in sorted(Path(folder).glob("shard-*.jsonl")):
        for _, record in iter_records(path):
            yield record


class ClusterPredictor:
    """Pre-annotations for `doccano push`: each batch is cut into shards and predicted on the cluster, in order.

    The cluster is started on the first batch and kept for the next ones (closed at exit or by `close`),
    so each worker loads the pipeline once per push.
    """

    def __init__(self, model: str | Path, cluster: str = "local", workers: int = 1, shard_size: int = 50):
        self.model = str(Path(model).resolve()) if Path(model).exists() else str(model)
        self.cluster, self.workers, self.shard_size = cluster, workers, shard_size
        self._client_context = None
        self._client = None

    def __call__(self, batch: Sequence[Article]) -> list[AnnotatedDoc]:
        if self._client is None:
            load_pipeline(self.model)  # before any worker starts: a missing or damaged model is one error
            self._client_context = dask_client(self.cluster, self.workers)
            self._client = self._client_context.__enter__()
            atexit.register(self.close)
        with tempfile.TemporaryDirectory(prefix="workbench-predict-") as tmp:
            predict_to_shards(self.model, batch, tmp, shard_size=self.shard_size, client=self._client, total=len(batch))
            return list(read_shards(tmp))

    def close(self) -> None:
        if self._client_context is not None:
            self._client_context.__exit__(None, None, None)
            self._client_context = self._client = None


@dataclass(frozen=True)
class WorkerBench:
    run: PredictionRun
    sha256: str


def bench_workers(model: str | Path, source: str | Path, worker_counts: Sequence[int], shard_size: int = 50) -> list[WorkerBench]:
    """One run per worker count on the same articles, in one process; the outputs must be byte-identical.

    The time counted is from the first shard submitted to the last one written, with the cluster
    already started; each worker's first shard includes loading its pipeline.
    """
    results = []
    for workers in worker_counts:
        articles = list(read_articles(source).articles)
        with tempfile.TemporaryDirectory(prefix="workbench-predict-bench-") as tmp, dask_client("local", workers) as client:
            client.wait_for_workers(workers)
            run = predict_to_shards(model, articles, tmp, shard_size=shard_size, client=client, total=len(articles))
            digest = hashlib.sha256()
            for path in sorted(Path(tmp).glob("shard-*.jsonl")):
                digest.update(path.read_bytes())
        results.append(WorkerBench(run, digest.hexdigest()))
    if len({r.sha256 for r in results}) > 1:
        raise WorkbenchError("the outputs differ between worker counts; prediction is not deterministic here")
    return results
