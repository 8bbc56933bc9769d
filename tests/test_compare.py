"""`workbench compare`: per label and type, better / worse only when the intervals separate."""

from __future__ import annotations

import json

import pytest
import spacy
from conftest import ten_gold_documents
from typer.testing import CliRunner

from workbench.cli import app
from workbench.evaluation.compare import compare_runs, verdict

runner = CliRunner()


@pytest.mark.parametrize(
    "a, a_ci, b, b_ci, expected",
    [
        (0.5, {"lo": 0.4, "hi": 0.6}, 0.8, {"lo": 0.7, "hi": 0.9}, "better"),
        (0.8, {"lo": 0.7, "hi": 0.9}, 0.5, {"lo": 0.4, "hi": 0.6}, "worse"),
        (0.5, {"lo": 0.4, "hi": 0.7}, 0.6, {"lo": 0.5, "hi": 0.8}, "within noise"),
        (0.5, None, 0.6, {"lo": 0.5, "hi": 0.8}, "cannot tell"),  # no interval in A
        (0.5, None, 0.5, None, "unchanged"),
    ],
)
def test_verdict(a, a_ci, b, b_ci, expected):
    assert verdict(a, a_ci, b, b_ci) == expected


@pytest.fixture(scope="module")
def runs(tmp_path_factory, ruler_model):
    """Run A: the ruler; run B: the ruler without its person and country names, a clear regression.

    Both on 10 documents (the gold's 5, twice), the fewest that get intervals.
    """
    work = tmp_path_factory.mktemp("compare")
    gold = ten_gold_documents(work)
    worse = spacy.load(ruler_model)
    ruler = worse.get_pipe("entity_ruler")
    kept = [p for p in ruler.patterns if p["label"] not in ("PERSON", "GPE")]
    ruler.clear()
    ruler.add_patterns(kept)
    worse.to_disk(work / "worse")
    folders = {}
    for name, model in (("a", ruler_model), ("b", work / "worse")):
        folders[name] = work / name
        args = ["evaluate", "--model", str(model), "--data", str(gold), "-o", str(folders[name]), "--no-baselines", "--no-html", "--bootstrap", "300"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return folders


def test_compare_flags_the_labels_that_got_worse(runs, tmp_path):
    out = tmp_path / "comparison.md"
    result = runner.invoke(app, ["compare", str(runs["a"]), str(runs["b"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    a = json.loads((runs["a"] / "metrics.json").read_text())
    b = json.loads((runs["b"] / "metrics.json").read_text())
    comparison = compare_runs(a, b)
    rows = {row["name"]: row for row in comparison["tasks"]["ner"]}
    assert rows["micro"]["verdicts"]["recall"] == "worse" and rows["micro"]["verdicts"]["f1"] == "worse"
    assert rows["ROLE"]["summary"] == "unchanged"  # its patterns were kept
    assert "ner micro recall" in comparison["regressions"]
    # B finds no PERSON in any document: every resample gives recall 0, a degenerate interval
    # (0.0-0.0) that says nothing about other documents, so the row cannot be told; its F1 drop is listed.
    assert rows["PERSON"]["verdicts"]["recall"] == "cannot tell"
    assert rows["PERSON"]["why"]["recall"] == "degenerate interval in B (0.0–0.0)"
    assert rows["PERSON"]["why"]["precision"] == "undefined in B"  # B predicts no PERSON at all
    assert "ner PERSON F1 (degenerate interval in B (0.0–0.0))" in comparison["thin_drops"]
    text = out.read_text()
    assert text == result.output.split("comparison: ")[0]
    assert "**WORSE: RECALL, F1**" in text and "| ROLE |" in text
    assert "**CANNOT TELL: DEGENERATE INTERVAL IN B (0.0–0.0)**" in text


def test_compare_can_gate_on_regressions(runs, tmp_path):
    failed = runner.invoke(app, ["compare", str(runs["a"]), str(runs["b"]), "--fail-on-regression", "-o", str(tmp_path / "c.json")])
    assert failed.exit_code == 1 and "worse beyond noise: ner micro recall" in failed.output
    assert json.loads((tmp_path / "c.json").read_text())["regressions"]
    same = runner.invoke(app, ["compare", str(runs["a"]), str(runs["a"]), "--fail-on-regression"])
    assert same.exit_code == 0, same.output
    assert "Regressions: none" in same.output


def test_compare_reports_a_missing_run_in_one_line(tmp_path, runs):
    result = runner.invoke(app, ["compare", str(tmp_path / "nowhere"), str(runs["b"])])
    assert result.exit_code == 1 and result.output.startswith("error:") and "Traceback" not in result.output


def scores(p, r, f, tp, fp, fn, ci=None):
    return {"micro": {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn}, "per_label": {}, "ci": ci}


def run_metrics(folder, documents, rel, ci_docs=True, gold="a" * 64):
    """A hand-made metrics.json: the fields compare reads, nothing else."""
    metrics = {
        "provenance": {"gold": {"paths": ["gold.jsonl"], "sha256": gold}},
        "model": str(folder), "split": "test", "documents": documents,
        "document_ids": [f"d{i}" for i in range(documents)],
        "bootstrap": {"intervals": ci_docs and documents >= 2, "note": "no intervals: one document"},
        "ner": scores(1.0, 1.0, 1.0, 4, 0, 0),
        "rel": rel,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_one_document_per_run_cannot_tell_and_the_gate_fails_closed(tmp_path):
    # The case: one document per run, relation F1 from 60.0 to 33.3 (27 points down).
    a = run_metrics(tmp_path / "a", 1, scores(0.6, 0.6, 0.6, 3, 2, 2))
    b = run_metrics(tmp_path / "b", 1, scores(1 / 3, 1 / 3, 1 / 3, 1, 2, 2))
    result = runner.invoke(app, ["compare", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert "**Regressions: none**" in result.output
    assert "**F1 fell, but the evidence is too thin to tell: rel micro F1 (1 document in A and 1 document in B (fewer than 10))**" in result.output
    gate = runner.invoke(app, ["compare", str(a), str(b), "--fail-on-regression"])
    assert gate.exit_code == 1
    assert "error: F1 fell where the evidence is too thin to tell: rel micro F1" in gate.output
    allowed = runner.invoke(app, ["compare", str(a), str(b), "--fail-on-regression", "--allow-thin-evidence"])
    assert allowed.exit_code == 0, allowed.output


def test_degenerate_intervals_cannot_tell(tmp_path):
    # Two documents, intervals that resampling two documents gives: (25.0-25.0) cannot support "better".
    flat = {"micro": {m: {"lo": 0.25, "hi": 0.25} for m in ("precision", "recall", "f1")}}
    wide = {"micro": {m: {"lo": 0.5, "hi": 0.75} for m in ("precision", "recall", "f1")}}
    a = run_metrics(tmp_path / "a", 2, scores(0.25, 0.25, 0.25, 1, 3, 3, flat))
    b = run_metrics(tmp_path / "b", 2, scores(0.6, 0.6, 0.6, 3, 2, 2, wide))
    result = compare_runs(json.loads((a / "metrics.json").read_text()), json.loads((b / "metrics.json").read_text()), min_documents=2)
    row = result["tasks"]["rel"][0]
    assert row["verdicts"] == {"precision": "cannot tell", "recall": "cannot tell", "f1": "cannot tell"}
    assert row["why"]["f1"] == "degenerate interval in A (25.0–25.0)"
    assert result["regressions"] == [] and result["thin_drops"] == []  # F1 rose: nothing to gate on
    # The same intervals with a real width in A: B's lies wholly above, so "better".
    a_wide = {"micro": {m: {"lo": 0.1, "hi": 0.4} for m in ("precision", "recall", "f1")}}
    a2 = run_metrics(tmp_path / "a2", 2, scores(0.25, 0.25, 0.25, 1, 3, 3, a_wide))
    result = compare_runs(json.loads((a2 / "metrics.json").read_text()), json.loads((b / "metrics.json").read_text()), min_documents=2)
    assert result["tasks"]["rel"][0]["verdicts"]["f1"] == "better"


def test_runs_on_different_gold_are_refused(tmp_path):
    rel = scores(0.5, 0.5, 0.5, 5, 5, 5)
    a = run_metrics(tmp_path / "a", 6, rel, gold="a" * 64)
    b = run_metrics(tmp_path / "b", 6, rel, gold="b" * 64)
    refused = runner.invoke(app, ["compare", str(a), str(b)])
    assert refused.exit_code == 1
    assert refused.output.startswith("error: the runs were scored on different gold files (sha256 aaaaaaaaaaaa in A, bbbbbbbbbbbb in B)")
    warned = runner.invoke(app, ["compare", str(a), str(b), "--allow-different-gold"])
    assert warned.exit_code == 0, warned.output
    assert "Note: **WARNING: the runs were scored on different gold files" in warned.output
