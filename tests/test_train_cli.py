"""`workbench train`: what it says and refuses, where its runs go, and what an interruption leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from tests.base_fixtures import SCHEME_SENTENCES, scheme_docbin, tiny_base  # noqa: F401 (fixtures)
from workbench.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _data_dir(tmp_path: Path, train: Path, dev_docs: bool = True) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.spacy").write_bytes(train.read_bytes())
    if dev_docs:
        (data / "dev.spacy").write_bytes(train.read_bytes())
    else:
        DocBin().to_disk(data / "dev.spacy")
    return data


def _train_args(base: Path, data: Path, *extra: str) -> list[str]:
    return ["train", "ner", "--base-model", str(base), "--config", str(ROOT / "configs" / "ner.cfg"),
            "--labels", str(ROOT / "configs" / "labels.yml"), "--data", str(data), *extra]


def test_the_group_help_says_where_the_options_are():
    import re

    group = runner.invoke(app, ["train", "--help"], terminal_width=200)
    assert group.exit_code == 0
    assert "`workbench train all --help`" in group.output
    # Every option the group's help names is one `train all` has, so the pointer cannot go stale.
    named = set(re.findall(r"(--[a-z][a-z-]+)\b", group.output)) - {"--help"}
    assert {"--base-model", "--select-on-train", "--target-precision"} <= named
    train_all = runner.invoke(app, ["train", "all", "--help"], terminal_width=200).output
    assert all(option in train_all for option in named), named


def test_empty_dev_stops_training_unless_told_what_to_use(tiny_base, scheme_docbin, tmp_path):
    data = _data_dir(tmp_path, scheme_docbin, dev_docs=False)
    args = _train_args(tiny_base, data, "--run-dir", str(tmp_path / "runs"), "-o", str(tmp_path / "model"),
                       "--training.max_steps", "4", "--training.eval_frequency", "2")
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1 and f"{data / 'dev.spacy'}: no dev documents" in refused.output
    assert not (tmp_path / "model").exists() and not (tmp_path / "runs").exists()
    allowed = runner.invoke(app, [*args, "--select-on-train"])
    assert allowed.exit_code == 0, allowed.output
    assert "checkpoints chosen on the training documents" in allowed.output


def test_a_misspelled_option_is_one_line_naming_it(tmp_path):
    for bad, named in ((["--trainng.max_steps", "3"], "--trainng.max_steps"), (["--max-steps", "3"], "--max-steps")):
        result = runner.invoke(app, ["train", "all", "--data", str(tmp_path), *bad])
        assert result.exit_code == 1 and f"no such option: {named}" in result.output, result.output
        assert "Traceback" not in result.output



def test_unresolved_conflicts_in_the_gold_are_counted_before_training(tiny_base, scheme_docbin, tmp_path):
    data = _data_dir(tmp_path, scheme_docbin)
    manifest = {"documents": {"train": 2, "dev": 2, "test": 0}, "unresolved_conflicts": {"count": 2, "doc_ids": ["a", "b"]}}
    (data / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, _train_args(tiny_base, data, "--run-dir", str(tmp_path / "runs"), "-o", str(tmp_path / "m"),
                                            "--training.max_steps", "2", "--training.eval_frequency", "1"))
    assert result.exit_code == 0, result.output
    assert "warning: 2 documents in the gold still had unresolved adjudication conflicts" in result.output


def test_every_run_gets_its_own_folder(tiny_base, scheme_docbin, tmp_path, monkeypatch):
    data = _data_dir(tmp_path, scheme_docbin)
    monkeypatch.chdir(tmp_path)
    folders = []
    for name in ("first", "second"):
        result = runner.invoke(app, _train_args(tiny_base, data, "-o", str(tmp_path / name), "--training.max_steps", "2",
                                                "--training.eval_frequency", "1"))
        assert result.exit_code == 0, result.output
        folders.append(next(line.split()[1] for line in result.output.splitlines() if line.startswith("runs: ")))
    assert folders[0] != folders[1]
    for folder in folders:
        assert (tmp_path / folder.replace("/{ner}", "") / "ner" / "model-best").is_dir()


def test_an_interrupted_run_leaves_the_installed_model_untouched(tiny_base, scheme_docbin, tmp_path):
    data = _data_dir(tmp_path, scheme_docbin)
    installed = tmp_path / "installed"
    installed.mkdir()
    (installed / "marker").write_text("the model from before")
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "workbench", *_train_args(tiny_base, data, "--run-dir", str(runs), "-o", str(installed),
                                                               "--training.max_steps", "100000", "--training.eval_frequency", "1000",
                                                               # No early stop: the run must still be training when the signal comes.
                                                               "--training.patience", "0")]
    # A job started in the background by a non-interactive shell (CI's runner, `make test &`)
    # inherits SIGINT ignored, and so would this child: give it the default, as a terminal has.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # Interrupt once spaCy is training, as a user pressing Ctrl-C would: after its training banner,
    # not merely once its run folder exists, which it makes before initializing (a loaded machine
    # can take seconds there).
    lines: list[str] = []
    training = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if "Training pipeline" in line:
                training.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert training.wait(timeout=180), "".join(lines)
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    reader.join(timeout=30)
    output = "".join(lines)
    assert proc.returncode == 130, output
    assert f"interrupted: the installed model at {installed} is untouched; {runs} holds a partial run" in output
    assert "Traceback" not in output
    assert sorted(os.listdir(installed)) == ["marker"] and (installed / "marker").read_text() == "the model from before"
