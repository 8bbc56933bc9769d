"""`workbench compare`: per label and type, better / worse only when the intervals separate."""

from __future__ import annotations

import json

import pytest
import spacy
from conftest import GOLD
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
    """Run A: the ruler; run B: the ruler without its person and country names, a clear regression."""
    work = tmp_path_factory.mktemp("compare")
    worse = spacy.load(ruler_model)
    ruler = worse.get_pipe("entity_ruler")
    kept = [p for p in ruler.patterns if p["label"] not in ("PERSON", "GPE")]
    ruler.clear()
    ruler.add_patterns(kept)
    worse.to_disk(work / "worse")
    folders = {}
    for name, model in (("a", ruler_model), ("b", work / "worse")):
        folders[name] = work / name
        args = ["evaluate", "--model", str(model), "--data", str(GOLD), "-o", str(folders[name]), "--no-baselines", "--no-html", "--bootstrap", "300"]
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
