"""Atomic writes: staging names that say whose they are, cleaning only the dead's, and swaps where no atomic exchange exists."""

from __future__ import annotations

import os
import subprocess

import pytest

import workbench.fileio as fileio
from workbench.errors import WorkbenchError
from workbench.fileio import atomic_open, remove_stale, replace_dir, staging_dir


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_only_what_a_dead_process_left_is_removed(tmp_path):
    host = fileio._owner().split("@")[1]
    running = subprocess.Popen(["sleep", "60"])
    dead = tmp_path / f".report.{dead_pid()}@{host}.abcd1234.tmp"
    alive = tmp_path / f".report.{running.pid}@{host}.abcd1234.tmp"
    other_host = tmp_path / f".report.{dead_pid()}@{'0' * 8 if host != '0' * 8 else '1' * 8}.abcd1234.tmp"
    other_name = tmp_path / f".metrics.json.{dead_pid()}@{host}.abcd1234.tmp"
    for path in (dead, alive, other_host):
        path.mkdir()
        (path / "metrics.json").write_text("{}")
    other_name.write_text("{}")
    try:
        assert remove_stale(tmp_path, "report") == [dead]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (alive, other_host, other_name))
        assert remove_stale(tmp_path) == [other_name]
    finally:
        running.kill()
        running.wait()


def test_a_swap_killed_between_its_two_renames_is_put_back(tmp_path, monkeypatch):
    # Where renameat2 cannot exchange, replace_dir moves the old folder aside first.
    monkeypatch.setattr(fileio, "exchange_paths", lambda a, b: False)
    final = tmp_path / "report"
    final.mkdir()
    (final / "report.md").write_text("old")
    stage = staging_dir(final)
    (stage / "report.md").write_text("new")
    replace_dir(stage, final)
    assert (final / "report.md").read_text() == "new" and os.listdir(tmp_path) == ["report"]

    # Killed after the first rename: the folder is missing, the old one waits aside.
    aside = tmp_path / f".report.{dead_pid()}@{fileio._owner().split('@')[1]}.0123abcd.old"
    os.rename(final, aside)
    assert remove_stale(tmp_path, "report") == [aside]
    assert (final / "report.md").read_text() == "new" and os.listdir(tmp_path) == ["report"]


def test_a_write_that_fails_is_one_error_naming_the_target_and_leaves_nothing(tmp_path):
    target = tmp_path / "out.jsonl"
    with pytest.raises(WorkbenchError) as caught:
        with atomic_open(target) as fh:
            fh.write("half")
            raise OSError(28, "No space left on device")
    assert str(caught.value) == f"{target}: cannot write: No space left on device"
    assert os.listdir(tmp_path) == []


def test_an_error_on_a_file_inside_a_staging_folder_names_where_it_goes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stage = staging_dir("report")
    with pytest.raises(WorkbenchError) as caught:
        with fileio.write_errors("report"):
            raise OSError(13, "Permission denied", str(stage.resolve() / "plots" / "a.png"))
    assert str(caught.value) == f"{tmp_path / 'report' / 'plots' / 'a.png'}: cannot write: Permission denied"
    with pytest.raises(WorkbenchError) as caught:
        with fileio.write_errors("report"):
            raise OSError(2, "No such file or directory", "gold.jsonl")
    assert str(caught.value) == "gold.jsonl: No such file or directory", "a file outside the target is named as it is"
