"""Prediction on Dask: two workers give what one process gives; a worker killed mid-run leaves whole shards only."""

from __future__ import annotations

import os
import signal
import sys

import pytest
from conftest import RAW
from distributed import WorkerPlugin

from workbench.errors import WorkbenchError
from workbench.predict import load_pipeline, predict_records, read_articles
from workbench.predict_cluster import ClusterPredictor, dask_client, predict_to_shards, read_shards


def articles_x4():
    """The 5 bundled articles four times under distinct ids: 20 articles, 10 shards of 2."""
    base = list(read_articles(RAW).articles)
    return [(f"{doc_id}-{n}", text, meta) for n in range(4) for doc_id, text, meta in base]


def in_process(model, articles):
    return [r.to_dict() for r in predict_records(load_pipeline(model), articles)]


def test_two_worker_local_cluster_gives_the_single_process_output(tmp_path, ruler_model):
    articles = articles_x4()
    run = predict_to_shards(ruler_model, articles, tmp_path / "out", cluster="local", workers=2, shard_size=2)
    assert (run.shards, run.reused, run.documents, run.workers) == (10, 0, 20, 2)
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[:3] == ["dask.log", "run.json", "shard-00000.jsonl"]
    expected = in_process(ruler_model, articles)
    assert sum(len(r["entities"]) for r in expected) > 0
    assert [r.to_dict() for r in read_shards(tmp_path / "out")] == expected
    assert run.words == sum(len(text.split()) for _, text, _ in articles)


def test_push_predictor_runs_batches_on_the_cluster_in_order(ruler_model):
    articles = articles_x4()[:7]
    predictor = ClusterPredictor(ruler_model, workers=1, shard_size=3)
    try:
        assert [r.to_dict() for r in predictor(articles)] == in_process(ruler_model, articles)
        assert [r.doc_id for r in predictor(articles[:2])] == [a[0] for a in articles[:2]]
    finally:
        predictor.close()


class KillOnSecondTask(WorkerPlugin):
    """Worker plugin: the first worker to start its second task SIGKILLs its own process (once per test)."""

    name = "kill-on-second-task"

    def __init__(self, marker: str):
        self.marker = marker
        self.started = 0

    def setup(self, worker):
        self.started = 0

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing":
            return
        self.started += 1
        if self.started == 2:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return
            os.kill(os.getpid(), signal.SIGKILL)


def test_worker_killed_mid_run_then_rerun_redoes_only_missing_shards(tmp_path, ruler_model):
    import cloudpickle
    import dask
    from distributed import Client, LocalCluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    articles = articles_x4()
    out = tmp_path / "out"
    # No retries: the shard whose worker died fails the run, as a lost machine would.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster:
            with Client(cluster) as client:
                client.register_plugin(KillOnSecondTask(str(tmp_path / "killed")))
                with pytest.raises(WorkbenchError, match="run the same command again"):
                    predict_to_shards(ruler_model, articles, out, shard_size=2, client=client)
                client.cancel(list(client.futures))
    assert (tmp_path / "killed").exists(), "a worker was really killed"
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("shard-*.jsonl")}
    assert 0 < len(before) < 10

    run = predict_to_shards(ruler_model, articles, out, cluster="local", workers=2, shard_size=2)
    assert (run.shards, run.reused, run.documents) == (10, len(before), 20 - 2 * len(before))
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("shard-*.jsonl")}
    assert {name: after[name] for name in before} == before, "finished shards are not redone"
    assert sorted(after) == [f"shard-{i:05d}.jsonl" for i in range(10)]
    assert not list(out.glob(".*")), "no temp file of a dead writer is left"
    assert [r.to_dict() for r in read_shards(out)] == in_process(ruler_model, articles), "each document once, in order"


def test_a_folder_of_another_run_is_refused(tmp_path, ruler_model):
    articles = articles_x4()[:2]
    with dask_client("local", 1) as client:
        predict_to_shards(ruler_model, articles, tmp_path, shard_size=2, client=client, source="a")
        with pytest.raises(WorkbenchError, match="holds 1 shard of another run"):
            predict_to_shards(ruler_model, articles, tmp_path, shard_size=3, client=client, source="a")
