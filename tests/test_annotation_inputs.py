"""Every command that reads annotations takes the same inputs: JSONL files and snapshot folders (workbench.annotation_files)."""

from __future__ import annotations

import json

import pytest
from annotator_fixtures import write_snapshot
from conftest import GOLD, ROOT, build_repo_corpus
from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()
LABELS = str(ROOT / "configs" / "labels.yml")


def gold_rows(annotator: str) -> list[dict]:
    return [{**json.loads(line), "annotator": annotator, "confirmed": True} for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The bundled gold as a two-annotator snapshot, the same as plain files, and as a one-annotator snapshot."""
    root = tmp_path_factory.mktemp("inputs")
    two = write_snapshot(root, "round-1", {"alice": gold_rows("alice"), "bob": gold_rows("bob")})
    one = write_snapshot(root, "alice-only", {"alice": gold_rows("alice")})
    files = [str(two / "annotators" / "alice.jsonl"), str(two / "annotators" / "bob.jsonl")]
    corpus = build_repo_corpus(root)
    return {"two": str(two), "one": str(one), "files": files, "corpus": corpus, "root": root}


def run(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(
    "command",
    [
        ["annotations", "stats", "--splits", str(ROOT / "corpus" / "splits.json"), "--labels", LABELS],
        ["annotations", "reach", "--labels", LABELS],
        ["annotations", "validate", "--no-corpus", "--labels", LABELS],
    ],
    ids=["stats", "reach", "validate"],
)
def test_a_snapshot_folder_reads_as_its_annotator_files(inputs, command):
    from_folder = run(*command, inputs["two"]).output
    if command[1] == "validate":
        # validate checks each annotator of a snapshot on its own (the same document twice is no duplicate there;
        # across plain files it is): 5 documents per annotator, 10 in all.
        assert from_folder.strip() == "ok: 10 documents, no problems (corpus not checked)"
    else:
        # What the command says of a snapshot is what it says of the snapshot's files given one by one.
        assert from_folder == run(*command, *inputs["files"]).output
    if command[1] == "stats":
        # Two annotators' copies of the 5 gold documents: 3 train, 1 dev, 1 test each.
        assert from_folder.startswith("10 documents (train 6, dev 2, test 2)")


def test_agreement_and_adjudicate_take_a_snapshot_beside_a_file(inputs, tmp_path):
    # Before, these took one snapshot folder or files, never both; now every command takes the same mix.
    carol = tmp_path / "carol.jsonl"
    carol.write_text("".join(json.dumps(r) + "\n" for r in gold_rows("carol")), encoding="utf-8")
    agreed = run("annotations", "agreement", inputs["two"], str(carol), "--json", tmp_path / "agreement.json", "--labels", LABELS)
    assert "5 documents compared (alice, bob, carol" in agreed.output
    assert "entities: F1 exact 1.000" in agreed.output
    adjudicated = run("annotations", "adjudicate", inputs["two"], str(carol), "-o", tmp_path / "gold.jsonl", "--labels", LABELS)
    assert "gold: 5 documents (majority), 0 open conflicts in 0 documents" in adjudicated.output


def test_gold_commands_take_a_one_annotator_snapshot(inputs, tmp_path, ruler_model):
    corpus = inputs["corpus"].output
    for name, source in (("file", str(GOLD)), ("snapshot", inputs["one"])):
        run("data", source, "--corpus", corpus, "--labels", LABELS, "-o", tmp_path / name)
    for split in ("train", "dev", "test"):
        assert (tmp_path / "file" / f"{split}.spacy").read_bytes() == (tmp_path / "snapshot" / f"{split}.spacy").read_bytes()
    reports = {}
    for name, source in (("file", str(GOLD)), ("snapshot", inputs["one"])):
        out = tmp_path / f"report-{name}"
        run("evaluate", "--model", ruler_model, "--data", source, "--corpus", corpus, "-o", out, "--no-baselines", "--bootstrap", "0")
        reports[name] = json.loads((out / "metrics.json").read_text())
    assert reports["snapshot"]["ner"] == reports["file"]["ner"] and reports["snapshot"]["documents"] == 5
    # The gold's sha256 is that of the snapshot's annotator file, which holds the same records with two more keys.
    assert reports["snapshot"]["provenance"]["gold"]["paths"] == [inputs["one"]]


def test_gold_of_several_annotators_is_refused_in_one_line(inputs, tmp_path):
    args = ["evaluate", "--model", str(tmp_path), "--data", inputs["two"], "--corpus", str(tmp_path / "none"), "-o", str(tmp_path / "out")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    # bob's file repeats alice's first document (gold line 1).
    assert f"{inputs['two']}/annotators/bob.jsonl:1 [000_2cb32350f79870a9]: document is also in {inputs['two']}/annotators/alice.jsonl" in result.output
    assert "made gold by `workbench annotations adjudicate`" in result.output


def test_a_missing_input_names_itself(inputs):
    missing = inputs["root"] / "no-such-snapshot"
    for command in (["annotations", "stats"], ["annotations", "agreement", "--json", "x.json"], ["annotations", "reach"]):
        result = runner.invoke(app, [*command, str(missing)])
        assert result.exit_code == 1, result.output
        assert f"{missing}: no such annotation file or snapshot folder" in result.output
