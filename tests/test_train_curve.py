"""`workbench train-curve`: nested, seeded subsets of the training documents, trained and scored per size."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.experiments.curve import FRACTIONS, nested_order, subset_sizes

runner = CliRunner()


def test_subset_sizes_round_half_up_and_merge_equal_sizes():
    assert subset_sizes(3, FRACTIONS) == {1: [0.25], 2: [0.5, 0.75], 3: [1.0]}
    assert subset_sizes(8, FRACTIONS) == {2: [0.25], 4: [0.5], 6: [0.75], 8: [1.0]}
    assert subset_sizes(1, (0.1, 1.0)) == {1: [0.1, 1.0]}  # never an empty training set
    with pytest.raises(WorkbenchError):
        subset_sizes(3, (0.0,))


def test_nested_order_is_seeded_and_independent_of_input_order():
    from workbench.records import AnnotatedDoc

    docs = [AnnotatedDoc(f"d{i}", "") for i in range(6)]
    ids = lambda order: [d.doc_id for d in order]  # noqa: E731
    assert ids(nested_order(docs, 1)) == ids(nested_order(list(reversed(docs)), 1))
    assert ids(nested_order(docs, 1)) != ids(nested_order(docs, 2))


def test_train_curve_cli_with_tiny_step_counts(tmp_path, repo_docbins):
    out = tmp_path / "curve"
    args = ["train-curve", "--data", str(repo_docbins), "--ner-config", str(ROOT / "configs/ner.cfg"), "--rel-config", str(ROOT / "configs/rel.cfg"),
            "--labels", str(ROOT / "configs/labels.yml"), "-o", str(out), "--bootstrap", "0",
            "--training.max_steps", "4", "--training.eval_frequency", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    curve = json.loads((out / "curve.json").read_text())
    points = curve["points"]
    assert [p["train_documents"] for p in points] == [1, 2, 3]
    assert [p["fractions"] for p in points] == [[0.25], [0.5, 0.75], [1.0]]
    # Nested: each subset holds the smaller ones.
    for smaller, larger in zip(points, points[1:]):
        assert larger["train_doc_ids"][: len(smaller["train_doc_ids"])] == smaller["train_doc_ids"]
    assert curve["split"] == "dev" and curve["overrides"]["ner"]["training.max_steps"] == 4
    assert any("0.5 and 0.75 of 3 training documents round to 2" in note for note in curve["notes"])
    for point in points:
        assert set(point) >= {"ner", "rel", "rel_gold_entities"}
        # Four steps may predict nothing: precision is then undefined (null), never a made-up 0.
        assert point["ner"]["precision"] is None or 0 <= point["ner"]["precision"] <= 1
        assert 0 <= point["rel"]["f1"] <= 1
    assert (out / "curve.png").read_bytes().startswith(b"\x89PNG")
    assert "round to 2: trained once" in result.output
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # the models are gone
