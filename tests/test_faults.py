"""Faults lose nothing and end in one line: killed runs, full disks and damaged models.

Killed runs: each stage that writes, SIGKILLed at its commit points, leaves the old state or
the new one, whole. Each test makes a workspace holding an earlier result, runs the command once to the end in a
copy (its new result, and the list of its commit points: tests/killpoints.py), then, in a fresh
copy per point, kills it just before or just after that point. What it wrote must then be the
old state or the new one, whole (byte for byte), everything else as it was, and the next run
of the same command must finish the job and remove what the killed one left. Doccano's pull is
killed the same way in test_doccano.py, which has the server.

Full disks: a tmpfs of a few hundred KiB that the suite mounts itself (as root, or with
passwordless sudo); where it cannot, those tests are skipped with the reason, and on CI
(`CI` set) they fail instead, so a CI run never passes without them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import pytest
import spacy
from annotator_fixtures import alice, bob, write_snapshot
from conftest import GOLD, RAW, ROOT, build_repo_corpus
from killpoints import Point, kill_at, leftovers, part, trace, tree
from typer.testing import CliRunner

from tests.base_fixtures import damaged, ner_model, scheme_docbin, tiny_base  # noqa: F401 (fixtures)
from workbench.cli import app

runner = CliRunner()
LABELS = ROOT / "configs" / "labels.yml"


def at(points: list[Point], dst: str, nth: int = 0) -> int:
    """The index of the `nth` commit point whose destination ends with `dst`."""
    return [p.index for p in points if p.dst.endswith(dst)][nth]


@dataclass(frozen=True)
class Kill:
    """One killed run: its workspace, each unit's state after the kill ("old" or "new"), and its hidden leftovers."""

    folder: Path
    states: dict
    leftovers: list


def outside(files: dict[str, str], units) -> dict[str, str]:
    return {k: v for k, v in files.items() if not any(part({k: v}, u) for u in units)}


def run_in(workspace: Path, args: list[str], monkeypatch) -> str:
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def kill_and_finish(tmp_path, workspace, args, units, choose, monkeypatch, caplog, work=(), same_new=True, check=None, inspect=None):
    """Kill `args` at each point `choose(points)` names; check each unit, then that the next run finishes the job.

    units: files or folders that must each be the old state or the new one, whole. work: folders
    a run may leave partial by design (a run folder, the shards of a resumable run). Anything else
    must be as it was. same_new=False: the new state is not the same bytes twice (a trained model's
    meta.json holds its speed), so `check(unit, folder)` says whether it is whole. inspect(folder,
    states, finished): more checks on what a kill left, before the next run.
    """
    old = tree(workspace)
    finished = tmp_path / "finished"
    shutil.copytree(workspace, finished)
    points, _ = trace(args, finished, tmp_path / "trace.jsonl")
    new = tree(finished)
    for unit in units:
        assert part(new, unit) != part(old, unit), f"the command changes {unit}"
    chosen = choose(points)
    assert len(chosen) >= 3
    seen = []
    for index, when in chosen:
        killed = tmp_path / f"killed-{index}-{when}"
        shutil.copytree(workspace, killed)
        kill_at(args, killed, index, when, killed.with_suffix(".log"))
        now = tree(killed)
        states = {}
        for unit in units:
            mine = part(now, unit)
            if mine == part(old, unit):
                states[unit] = "old"
            elif (mine == part(new, unit)) if same_new else check(unit, killed):
                states[unit] = "new"
            else:
                pytest.fail(f"killed {when} commit point {index} ({points[index - 1]}): {unit} is neither the old state nor the new one")
        assert outside(now, (*units, *work)) == outside(old, (*units, *work)), "nothing else changed"
        seen.append(Kill(killed, states, leftovers(killed)))
        if inspect is not None:
            inspect(killed, states, finished)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="workbench.fileio"):
            run_in(killed, args, monkeypatch)
        if same_new:
            assert tree(killed) == new, f"the run after a kill {when} point {index} gives the same result"
        assert leftovers(killed) == [], "the next run removed what the killed one left"
        if [p for p in seen[-1].leftovers if not any(p.startswith(w + "/") for w in work)]:
            assert "removed what a killed run left" in caplog.text  # a run folder is simply started afresh
    return seen


def around(index: int) -> list[tuple[int, str]]:
    return [(index, "before"), (index, "after")]


# --- corpus build -----------------------------------------------------------------------------


def test_corpus_build_killed_leaves_every_built_article_with_its_locked_split(tmp_path, monkeypatch, caplog):
    workspace = tmp_path / "workspace"
    (workspace / "raw").mkdir(parents=True)
    articles = sorted(RAW.glob("*.txt"))
    for path in articles[:3]:
        shutil.copy(path, workspace / "raw")
    args = ["corpus", "build", "raw", "--output", "corpus/build", "--splits-file", "corpus/splits.json", "--config", "none.yml"]
    run_in(workspace, args, monkeypatch)
    for path in articles[3:]:
        shutil.copy(path, workspace / "raw")  # the new build has 5 articles, the old one 3

    built_sizes = []

    def locked_splits(killed: Path, states: dict, finished: Path) -> None:
        locked = json.loads((killed / "corpus" / "splits.json").read_text())["assignments"]
        built = _built_splits(killed / "corpus" / "build")
        assert {doc_id: locked.get(doc_id) for doc_id in built} == built, "each built article has its locked split"
        built_sizes.append(len(built))

    # The lock file, then the build's swap: before, between and after both.
    seen = kill_and_finish(
        tmp_path, workspace, args, ["corpus/splits.json", "corpus/build"],
        lambda points: [*around(at(points, "corpus/splits.json")), *around(at(points, "corpus/build"))],
        monkeypatch, caplog, inspect=locked_splits,
    )
    states = [(k.states["corpus/splits.json"], k.states["corpus/build"]) for k in seen]
    # Killed between the two, the lock is ahead of the build, never behind it.
    assert states == [("old", "old"), ("new", "old"), ("new", "old"), ("new", "new")]
    assert built_sizes == [3, 3, 3, 5]


def _built_splits(folder: Path) -> dict[str, str]:
    from datasets import load_from_disk

    return {row["doc_id"]: row["split"] for row in load_from_disk(str(folder))}


def test_ctrl_c_is_one_line_and_leaves_nothing_behind(tmp_path):
    workspace = tmp_path / "workspace"
    (workspace / "raw").mkdir(parents=True)
    for path in sorted(RAW.glob("*.txt")):
        shutil.copy(path, workspace / "raw")
    args = ["corpus", "build", "raw", "--output", "corpus/build", "--splits-file", "corpus/splits.json", "--config", "none.yml"]
    shutil.copytree(workspace, tmp_path / "traced")
    points, _ = trace(args, tmp_path / "traced", tmp_path / "trace.jsonl")
    # Interrupted while the build's staging folder is being written: the lock is saved, the build is not swapped in.
    code, output = kill_at(args, workspace, at(points, "state.json"), "before", tmp_path / "interrupted.log", signal.SIGINT)
    assert (code, output) == (130, "interrupted\n")
    assert sorted(tree(workspace)) == ["corpus/splits.json", *sorted(f"raw/{p.name}" for p in RAW.glob("*.txt"))]
    assert leftovers(workspace) == [], "the temp files and staging folders of an interrupted run are removed by that run"


def test_a_build_behind_its_lock_file_is_found_and_finished(tmp_path, monkeypatch, caplog):
    workspace = tmp_path / "workspace"
    (workspace / "raw").mkdir(parents=True)
    articles = sorted(RAW.glob("*.txt"))
    shutil.copy(articles[0], workspace / "raw")
    args = ["corpus", "build", "raw", "--output", "corpus/build", "--splits-file", "corpus/splits.json", "--config", "none.yml"]
    run_in(workspace, args, monkeypatch)
    shutil.copy(articles[1], workspace / "raw")
    shutil.copytree(workspace, tmp_path / "copy")
    points, _ = trace(args, tmp_path / "copy", tmp_path / "trace.jsonl")
    kill_at(args, workspace, at(points, "corpus/splits.json"), "after", tmp_path / "killed.log")
    with caplog.at_level(logging.WARNING):
        run_in(workspace, args, monkeypatch)
    assert "corpus/build was built with another corpus/splits.json (a build stopped after saving the lock file" in caplog.text
    assert len(_built_splits(workspace / "corpus" / "build")) == 2


# --- data -------------------------------------------------------------------------------------


def test_data_killed_leaves_the_old_docbins_or_the_new_ones(tmp_path, monkeypatch, caplog):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    build_repo_corpus(workspace)
    shutil.copy(LABELS, workspace / "labels.yml")
    lines = GOLD.read_text(encoding="utf-8").splitlines(keepends=True)
    (workspace / "gold.jsonl").write_text("".join(lines[:3]), encoding="utf-8")
    args = ["data", "gold.jsonl", "--corpus", "corpus", "--labels", "labels.yml", "-o", "training/corpus"]
    run_in(workspace, args, monkeypatch)
    (workspace / "gold.jsonl").write_text("".join(lines), encoding="utf-8")

    # Before the first DocBin goes into the staging folder, after the manifest, and around the swap.
    seen = kill_and_finish(
        tmp_path, workspace, args, ["training/corpus"],
        lambda points: [(1, "before"), (at(points, "manifest.json"), "after"), *around(at(points, "training/corpus"))],
        monkeypatch, caplog,
    )
    assert [k.states["training/corpus"] for k in seen] == ["old", "old", "old", "new"]


# --- train ------------------------------------------------------------------------------------


def test_train_killed_leaves_the_installed_model_or_the_new_one(tmp_path, tiny_base, scheme_docbin, monkeypatch, caplog):
    workspace = tmp_path / "workspace"
    (workspace / "data").mkdir(parents=True)
    for name in ("train.spacy", "dev.spacy"):
        shutil.copy(scheme_docbin, workspace / "data" / name)
    shutil.copytree(tiny_base, workspace / "installed")  # the model installed before
    args = ["train", "ner", "--base-model", str(tiny_base), "--config", str(ROOT / "configs" / "ner.cfg"), "--labels", str(LABELS),
            "--data", "data", "--run-dir", "runs", "-o", "installed", "--training.max_steps", "2", "--training.eval_frequency", "1"]

    def whole(unit: str, killed: Path) -> bool:
        nlp = spacy.load(killed / unit)
        return "workbench" in nlp.meta and "ROLE" in nlp.get_pipe("ner").labels

    # spaCy's checkpoints are written in the run folder; then the provenance stamp and the install's swap.
    seen = kill_and_finish(
        tmp_path, workspace, args, ["installed"],
        lambda points: [(at(points, "meta.json"), "before"), *around(at(points, "installed"))],
        monkeypatch, caplog, work=["runs"], same_new=False, check=whole,
    )
    assert [k.states["installed"] for k in seen] == ["old", "old", "new"]


# --- evaluate ---------------------------------------------------------------------------------


def test_evaluate_killed_leaves_the_old_report_or_the_new_one(tmp_path, ruler_rel_model, monkeypatch, caplog):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copytree(ruler_rel_model, workspace / "model")
    shutil.copy(LABELS, workspace / "labels.yml")
    lines = GOLD.read_text(encoding="utf-8").splitlines(keepends=True)
    (workspace / "gold.jsonl").write_text("".join(lines[:2]), encoding="utf-8")
    args = ["evaluate", "--model", "model", "--data", "gold.jsonl", "-o", "reports/run", "--labels", "labels.yml",
            "--corpus", "no-corpus", "--bootstrap", "20"]
    run_in(workspace, args, monkeypatch)
    (workspace / "gold.jsonl").write_text("".join(lines), encoding="utf-8")

    # Before metrics.json goes into the staging folder, after report.md, and around the swap.
    seen = kill_and_finish(
        tmp_path, workspace, args, ["reports/run"],
        lambda points: [(at(points, "metrics.json"), "before"), (at(points, "report.md"), "after"), *around(at(points, "reports/run"))],
        monkeypatch, caplog,
    )
    assert [k.states["reports/run"] for k in seen] == ["old", "old", "old", "new"]


def test_evaluate_refuses_a_folder_holding_more_than_a_report(tmp_path, ruler_model):
    kept = tmp_path / "reports" / "crossval" / "metrics.json"
    kept.parent.mkdir(parents=True)
    kept.write_text("{}")
    result = runner.invoke(app, ["evaluate", "--model", str(ruler_model), "--data", str(GOLD), "-o", str(tmp_path / "reports"),
                                 "--labels", str(LABELS), "--corpus", str(tmp_path / "no-corpus")])
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'reports'}: holds crossval, which an evaluation report does not write" in result.output
    assert kept.read_text() == "{}" and sorted(p.name for p in tmp_path.rglob("*")) == ["crossval", "metrics.json", "reports"]


# --- predict ----------------------------------------------------------------------------------


def test_predict_killed_leaves_the_old_output_or_the_new_one_and_whole_shards(tmp_path, ruler_model, monkeypatch, caplog):
    workspace = tmp_path / "workspace"
    (workspace / "raw").mkdir(parents=True)
    shutil.copytree(ruler_model, workspace / "model")
    for path in RAW.glob("*.txt"):
        shutil.copy(path, workspace / "raw")
    (workspace / "out.jsonl").write_text('{"doc_id": "an earlier output"}\n', encoding="utf-8")
    args = ["predict", "model", "raw", "-o", "out.jsonl", "--shard-size", "2"]

    shard_counts = []

    def whole_shards(killed: Path, states: dict, finished: Path) -> None:
        shards = sorted((killed / "out.jsonl.shards").glob("shard-*.jsonl"))
        for shard in shards:
            rows = [json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines()]
            assert len(rows) == (1 if shard.name == "shard-00002.jsonl" else 2), "a shard is whole or absent"
        shard_counts.append(len(shards))

    # After run.json (no shard yet), around the join (every shard written), and half-way through removing the shards.
    seen = kill_and_finish(
        tmp_path, workspace, args, ["out.jsonl"],
        lambda points: [(at(points, "run.json"), "after"), *around(at(points, "out.jsonl")), (len(points), "after")],
        monkeypatch, caplog, work=["out.jsonl.shards"], inspect=whole_shards,
    )
    assert [k.states["out.jsonl"] for k in seen] == ["old", "old", "new", "new"]
    # The shard folder, moved aside whole before it is deleted: hidden after the last point.
    assert shard_counts == [0, 3, 3, 0]


# --- adjudicate -------------------------------------------------------------------------------


def test_adjudicate_killed_never_leaves_a_gold_without_its_conflicts(tmp_path, monkeypatch, caplog):
    workspace = tmp_path / "workspace"
    write_snapshot(workspace / "snapshots", "round-1", {"alice": alice(), "bob": bob()})
    args = ["annotations", "adjudicate", "snapshots/round-1", "-o", "gold/g.jsonl", "--labels", str(LABELS)]
    run_in(workspace, [*args, "--policy", "unanimous"], monkeypatch)
    units = ["gold/g.conflicts.json", "gold/g.conflicts.md", "gold/g.jsonl"]

    def described_gold(killed: Path, states: dict, finished: Path) -> None:
        # The conflicts name the gold they describe: ahead of the gold in place, they say so.
        described = json.loads((killed / units[0]).read_text())["gold_sha256"]
        assert (described == sha256((killed / units[2]).read_bytes()).hexdigest()) == (states[units[2]] == states[units[0]])
        assert (described == sha256((finished / units[2]).read_bytes()).hexdigest()) == (states[units[0]] == "new")

    seen = kill_and_finish(tmp_path, workspace, args, units, lambda points: [(1, "before")] + [(p.index, "after") for p in points],
                           monkeypatch, caplog, inspect=described_gold)
    assert [tuple(k.states[u] for u in units) for k in seen] == [
        ("old", "old", "old"), ("new", "old", "old"), ("new", "new", "old"), ("new", "new", "new")]


# --- damaged models ---------------------------------------------------------------------------


def workbench(cwd: Path, *args: str) -> tuple[int, str]:
    """A workbench command in a child process: its exit status and all it printed, as a terminal shows it."""
    done = subprocess.run([sys.executable, "-m", "workbench", *args], cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    return done.returncode, done.stdout


@pytest.mark.parametrize("how", ["truncated", "garbled"])
def test_evaluate_with_a_damaged_model_is_one_line_naming_the_component(tmp_path, ner_model, ruler_rel_model, how):
    for model, component in ((damaged(tmp_path, ner_model, "ner", how), "ner"),
                             (damaged(tmp_path, ruler_rel_model, "relation_extractor", how), "relation_extractor")):
        code, output = workbench(tmp_path, "evaluate", "--model", str(model), "--data", str(GOLD), "-o", "report",
                                 "--labels", str(LABELS), "--corpus", "no-corpus")
        assert code == 1
        assert re.fullmatch(
            rf"error: {model}: cannot load a spaCy pipeline: its component '{component}' \({model / component}\) is damaged "
            r"or incomplete \(\w+: [^\n]*\); train the model again or copy the whole folder again\n",
            output,
        ), output
        assert not (tmp_path / "report").exists()


# --- full disks -------------------------------------------------------------------------------

PAGE = 4096


def usage(path: Path) -> int:
    """Bytes a tmpfs charges for the files under path (each file in whole pages; folders cost nothing)."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(-(-p.stat().st_size // PAGE) * PAGE for p in files)


@pytest.fixture
def small_disk(tmp_path):
    """small_disk(bytes): a fresh tmpfs of that size, mounted by the suite and unmounted after the test."""
    mounted = []
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]

    def mount(size: int) -> Path:
        point = tmp_path / f"disk-{len(mounted)}"
        point.mkdir()
        options = f"size={size},uid={os.getuid()},gid={os.getgid()},mode=0755"
        command = [*sudo, "mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=30)
            problem = done.stderr.strip() if done.returncode else None
        except OSError as exc:  # no sudo at all
            problem = str(exc)
        if problem is not None:
            reason = f"full-disk test: cannot mount a small tmpfs ({' '.join(command[:len(sudo) + 3])}: {problem}); needs root or passwordless sudo"
            if os.environ.get("CI"):
                pytest.fail(f"{reason}; CI is set, and a CI run must not pass without the full-disk tests")
            pytest.skip(reason)
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run([*sudo, "umount", "--lazy", str(point)], capture_output=True, timeout=30)


def one_line_no_space(output: str, path_pattern: str, after: str = "") -> None:
    """The output is `after` (what the command said before it failed), then one error line naming the path."""
    assert output.startswith(after), output
    assert re.fullmatch(rf"error: {path_pattern}: cannot write: [^\n]*No space left on device[^\n]*\n", output[len(after):]), output


def test_evaluate_over_an_earlier_report_on_a_full_disk_keeps_the_old_report_whole(tmp_path, ruler_rel_model, small_disk):
    shutil.copy(GOLD, tmp_path / "gold.jsonl")
    lines = GOLD.read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "old-gold.jsonl").write_text("".join(lines[:2]), encoding="utf-8")
    common = ["--model", str(ruler_rel_model), "--labels", str(LABELS), "--corpus", "no-corpus", "--bootstrap", "20"]
    for gold, out in (("old-gold.jsonl", "old"), ("gold.jsonl", "new")):
        code, output = workbench(tmp_path, "evaluate", *common, "--data", gold, "-o", out)
        assert code == 0, output
    # The new report fits beside the old one by half: written in place, the two would have been mixed.
    disk = small_disk(usage(tmp_path / "old") + usage(tmp_path / "new") // 2)
    shutil.copytree(tmp_path / "old", disk / "report")
    before = tree(disk)
    code, output = workbench(tmp_path, "evaluate", *common, "--data", "gold.jsonl", "-o", str(disk / "report"))
    assert code == 1
    one_line_no_space(output, re.escape(str(disk / "report")) + r"/[\w.]+")
    assert tree(disk) == before and leftovers(disk) == [], "the old report, whole; the staging folder removed"


def _forty_articles(path: Path) -> Path:
    """The 5 bundled articles 8 times under distinct ids, as JSONL: 40 articles, 20 shards of 2."""
    rows = [{"id": f"{p.stem}-{n}", "text": p.read_text(encoding="utf-8")} for n in range(8) for p in sorted(RAW.glob("*.txt"))]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_predict_whose_join_fills_the_disk_is_one_line_and_keeps_its_shards(tmp_path, ruler_model, small_disk):
    source = _forty_articles(tmp_path / "in.jsonl")
    args = [str(ruler_model), str(source), "--shard-size", "2"]
    code, output = workbench(tmp_path, "predict", *args, "-o", "reference")
    assert code == 0, output
    shards = usage(tmp_path / "reference") - usage(tmp_path / "reference" / "dask.log")
    joined = sum(p.stat().st_size for p in (tmp_path / "reference").glob("shard-*.jsonl"))
    # Room for the shards, the earlier output, run.json, Dask's log (64 KiB), a ballast as big as
    # the output, and half the joined output.
    ballast = -(-joined // PAGE) * PAGE
    disk = small_disk(shards + PAGE + PAGE + 64 * 1024 + ballast + joined // 2)
    (disk / "out.jsonl").write_text('{"doc_id": "an earlier output"}\n', encoding="utf-8")
    (disk / "ballast").write_bytes(b"\0" * ballast)
    code, output = workbench(tmp_path, "predict", *args, "-o", str(disk / "out.jsonl"))
    assert code == 1 and output.startswith("predicted 40 documents in 20 shards (")
    one_line_no_space(output, re.escape(str(disk / "out.jsonl")), after=output.splitlines(keepends=True)[0])
    assert (disk / "out.jsonl").read_text() == '{"doc_id": "an earlier output"}\n'
    assert len(list((disk / "out.jsonl.shards").glob("shard-*.jsonl"))) == 20 and leftovers(disk) == []

    (disk / "ballast").unlink()  # the user frees space; the same command joins the kept shards
    code, output = workbench(tmp_path, "predict", *args, "-o", str(disk / "out.jsonl"))
    assert code == 0 and "predicted 0 documents in 20 shards, 20 kept from an earlier run" in output, output
    reference = b"".join(p.read_bytes() for p in sorted((tmp_path / "reference").glob("shard-*.jsonl")))
    assert (disk / "out.jsonl").read_bytes() == reference and not (disk / "out.jsonl.shards").exists()


def test_a_shard_that_fills_the_disk_is_one_line_from_the_worker(tmp_path, ruler_model, small_disk):
    source = _forty_articles(tmp_path / "in.jsonl")
    disk = small_disk(64 * 1024)
    code, output = workbench(tmp_path, "predict", str(ruler_model), str(source), "--shard-size", "2", "-o", str(disk / "out.jsonl"))
    assert code == 1
    one_line_no_space(output, re.escape(str(disk / "out.jsonl.shards")) + r"/shard-\d{5}\.jsonl")
    assert leftovers(disk) == [] and not (disk / "out.jsonl").exists()


def test_corpus_build_on_a_full_disk_keeps_the_build_and_its_lock_in_step(tmp_path, small_disk):
    articles = sorted(RAW.glob("*.txt"))
    (tmp_path / "raw").mkdir()
    for path in articles[:2]:
        shutil.copy(path, tmp_path / "raw")
    args = ["corpus", "build", "raw", "--output", "corpus/build", "--splits-file", "corpus/splits.json", "--config", "none.yml"]
    code, output = workbench(tmp_path, *args)
    assert code == 0, output
    for path in articles[2:]:
        shutil.copy(path, tmp_path / "raw")
    old = usage(tmp_path / "corpus")
    disk = small_disk(old + old // 2)  # 5 articles' sorted runs and dataset, where 2 articles' build and lock take `old`
    shutil.copytree(tmp_path / "corpus", disk / "corpus")
    before = tree(disk / "corpus" / "build")
    code, output = workbench(tmp_path, *[str(disk / a) if a.startswith("corpus/") else a for a in args])
    assert code == 1
    one_line_no_space(output, re.escape(str(disk / "corpus")) + r"/[\w./-]+")
    assert tree(disk / "corpus" / "build") == before and leftovers(disk) == []
    locked = json.loads((disk / "corpus" / "splits.json").read_text())["assignments"]
    built = _built_splits(disk / "corpus" / "build")
    assert {d: locked[d] for d in built} == built and len(locked) in (2, 5)
