"""`workbench predict` as a user meets it, in a real child process: a quiet terminal, the model and the input
checked before any worker starts, a failed run that does not block the next, empty input, and the text field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RAW, small_config

from tests.base_fixtures import damaged, ner_model  # noqa: F401 (a fixture)
from workbench.corpus.build import build_corpus
from workbench.records import read_records


def predict(tmp_path: Path, *args: str) -> tuple[int, str]:
    """Exit status and everything the command printed (stdout and stderr), as on a terminal."""
    done = subprocess.run([sys.executable, "-m", "workbench", "predict", *args], cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    return done.returncode, done.stdout


def test_dask_logs_go_to_a_file_unless_verbose(tmp_path, ruler_model):
    code, output = predict(tmp_path, str(ruler_model), str(RAW), "-o", "out.jsonl")
    assert code == 0, output
    # The two lines of result, nothing from Dask (its ~24 INFO lines went to the shard folder's dask.log).
    lines = output.splitlines()
    assert len(lines) == 2 and lines[0].startswith("predicted 5 documents in 1 shard (1 workers, "), output
    assert lines[1] == "wrote 5 predicted documents to out.jsonl"
    code, output = predict(tmp_path, str(ruler_model), str(RAW), "-o", "loud.jsonl", "--verbose")
    assert code == 0 and "distributed.scheduler" in output


@pytest.mark.parametrize("how", ["truncated", "garbled"])
def test_a_missing_or_damaged_model_is_one_line_before_any_worker_starts(tmp_path, ner_model, ruler_rel_model, how):
    cases = [
        (tmp_path / "no-such-model", "cannot load a spaCy pipeline: [E052] Can't find model directory"),
        (damaged(tmp_path, ner_model, "ner", how), "its component 'ner' ("),
        (damaged(tmp_path, ruler_rel_model, "relation_extractor", how), "its component 'relation_extractor' ("),
    ]
    for model, says in cases:
        code, output = predict(tmp_path, str(model), str(RAW), "-o", "out.jsonl")
        assert code == 1
        assert output.splitlines() == [output.strip()], f"one line, not a Dask block or a traceback: {output}"
        assert output.startswith(f"error: {model}: ") and says in output
        assert not (tmp_path / "out.jsonl.shards").exists(), "no worker started, no folder made"


def test_a_failed_run_does_not_block_the_corrected_one(tmp_path, ruler_model):
    code, _ = predict(tmp_path, str(tmp_path / "modle"), str(RAW), "-o", "out.jsonl")
    assert code == 1
    code, output = predict(tmp_path, str(ruler_model), str(RAW), "-o", "out.jsonl")
    assert code == 0, output
    # A run that failed after claiming the folder but before any shard blocks nothing either.
    (tmp_path / "out2.jsonl.shards").mkdir()
    (tmp_path / "out2.jsonl.shards" / "run.json").write_text(json.dumps({"model": "x", "source": "y", "shard_size": 9}))
    code, output = predict(tmp_path, str(ruler_model), str(RAW), "-o", "out2.jsonl")
    assert code == 0, output
    assert read_records(tmp_path / "out2.jsonl") == read_records(tmp_path / "out.jsonl")


def test_shards_of_another_run_say_which_command_finishes_them_and_overwrite_replaces_them(tmp_path, ruler_model):
    model, source = str(ruler_model.resolve()), str(RAW.resolve())
    code, _ = predict(tmp_path, model, source, "-o", "shards", "--shard-size", "2")
    assert code == 0
    (tmp_path / "shards" / "shard-00002.jsonl").unlink()  # as if that run had been killed before its last shard
    code, output = predict(tmp_path, model, source, "-o", "shards", "--shard-size", "3")
    assert code == 1
    resume = f"workbench predict {model} {source} -o shards --shard-size 2"
    assert output == (
        f"error: shards: holds 2 shards of another run (model {model}, input {source}, shard size 2): "
        f"finish that run with `{resume}`, or add --overwrite to predict anew\n"
    )
    code, output = predict(tmp_path, *resume.split()[2:])
    assert code == 0 and "predicted 1 document in 3 shards, 2 kept from an earlier run" in output, output
    code, output = predict(tmp_path, model, source, "-o", "shards", "--shard-size", "3", "--overwrite")
    assert code == 0 and "predicted 5 documents in 2 shards (" in output, output
    assert sorted(p.name for p in (tmp_path / "shards").glob("shard-*")) == ["shard-00000.jsonl", "shard-00001.jsonl"]


def test_empty_input_is_an_error_unless_accepted(tmp_path, ruler_model):
    (tmp_path / "empty.jsonl").write_text("")
    code, output = predict(tmp_path, str(ruler_model), "empty.jsonl", "-o", "out.jsonl")
    assert (code, output) == (1, "error: empty.jsonl: holds no articles, so nothing was predicted; "
                                 "--allow-empty accepts that and writes an empty output\n")
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out.jsonl.shards").exists()
    code, output = predict(tmp_path, str(ruler_model), "empty.jsonl", "-o", "out.jsonl", "--allow-empty")
    assert (code, output) == (0, "warning: empty.jsonl holds no articles; wrote an empty output\n")
    assert (tmp_path / "out.jsonl").read_text() == ""


def test_a_text_read_from_another_field_than_text_is_named(tmp_path, ruler_model):
    rows = [{"id": "a", "body": "Hakan Fidan met Tom Barrack."}, {"id": "b", "text": "Fidan spoke."},
            {"id": "c", "content": "Ankara.", "body": "not this one"}, {"id": "d", "body": "Barrack left."}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, output = predict(tmp_path, str(ruler_model), "in.jsonl", "-o", "out.jsonl")
    assert code == 0, output
    assert "in.jsonl: 2 articles have no 'text' field; read the text from 'body'" in output
    assert "in.jsonl: 1 article has no 'text' field; read the text from 'content'" in output
    assert [r.text for r in read_records(tmp_path / "out.jsonl")] == ["Hakan Fidan met Tom Barrack.", "Fidan spoke.", "Ankara.", "Barrack left."]


def test_corpus_build_names_the_text_field_once(tmp_path, caplog):
    rows = [{"id": "a", "body": "Hakan Fidan met Tom Barrack in Ankara."}, {"id": "b", "text": "Fidan spoke with Gerapetritis."}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with caplog.at_level("WARNING"):
        build_corpus(small_config(tmp_path, [tmp_path / "in.jsonl"]))
    # Two passes over the sources (hashes, then texts); said once.
    assert [r.getMessage() for r in caplog.records] == [f"{tmp_path / 'in.jsonl'}: 1 article has no 'text' field; read the text from 'body'"]
