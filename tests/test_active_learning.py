"""The simulated active-learning study: a tiny run (2 rounds, a model from scratch trained for a few steps) writes its curve."""

from __future__ import annotations

import json

import numpy
from conll04_helpers import write_benchmark
from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()


def test_tiny_study_writes_the_curve(tmp_path):
    out = tmp_path / "study"
    args = ["benchmark", "active-learning", "--config", str(write_benchmark(tmp_path)), "-o", str(out),
            "--start", "4", "--step", "4", "--rounds", "2", "--seeds", "0", "--beam-width", "4",
            "--training.max_steps", "4", "--training.eval_frequency", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    curve = json.loads((out / "curve.json").read_text())
    assert curve["settings"]["sizes"] == [4, 8, 12] and curve["pool_sentences"] == 16 and curve["dev_sentences"] == 4
    assert curve["overrides"]["ner"]["training.max_steps"] == 4
    pool = sorted(f"conll04-{1000 + n}" for n in range(16))
    # Seed 0's random order, computed here with numpy directly: the start, then random's next picks.
    shuffled = [pool[i] for i in numpy.random.default_rng(0).permutation(16)]
    chosen = {}
    for strategy in ("random", "uncertainty", "diversity"):
        points = curve["strategies"][strategy]["seeds"]["0"]
        assert [p["sentences"] for p in points] == [4, 8, 12]
        assert points[0]["added"] == shuffled[:4]  # every strategy starts from the same sentences
        added = [doc_id for p in points for doc_id in p["added"]]
        assert len(added) == len(set(added)) == 12 and set(added) <= set(pool)
        chosen[strategy] = added
        for point in points:
            assert set(point["ner"]) == {"precision", "recall", "f1"} and set(point["rel"]) == {"precision", "recall", "f1"}
        mean = curve["strategies"][strategy]["mean"]
        # One seed: the spread is that seed's own value.
        assert [row["rel"]["mean"] for row in mean] == [p["rel"]["f1"] for p in points] == [row["rel"]["max"] for row in mean]
    assert chosen["random"] == shuffled[:12]
    assert set(curve["goal"]) >= {"met", "note"}
    assert (out / "curve.png").read_bytes().startswith(b"\x89PNG")
    assert "sentences to reach the target" in result.output
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # the models are gone


def test_sentences_to_target_and_the_goal_by_hand():
    from workbench.benchmarks.active_learning import StudySettings, first_reaching, goal

    rows = [{"sentences": n, "rel": {"mean": f1}} for n, f1 in ((50, 0.30), (100, 0.38), (150, 0.40), (200, 0.45))]
    # Target 0.9 x 0.44 = 0.396: 0.38 at 100 falls short, 0.40 at 150 reaches it.
    assert first_reaching(rows, "rel", 0.396) == 150
    assert first_reaching(rows, "rel", 0.5) is None
    settings = StudySettings(rounds=3)

    def strategies(random_n, uncertain_n):
        return {"random": {"sentences_to_target": {"rel": random_n}}, "uncertainty": {"sentences_to_target": {"rel": uncertain_n}}}

    # 1 - 100/150 = 0.3333 >= 0.3: met; 1 - 200/150 = -0.3333: 33% more, not met.
    assert goal(strategies(150, 100), settings) | {"note": ""} == {
        "random": 150, "uncertainty": 100, "wanted_saving": 0.3, "met": True, "saving": 0.3333, "note": "",
    }
    worse = goal(strategies(150, 200), settings)
    assert (worse["met"], worse["saving"]) == (False, -0.3333) and "33% more sentences than random" in worse["note"]
    # Random never reached the target within 200: only a lower bound, 1 - 100/200 = 50%.
    unknown = goal(strategies(None, 100), settings)
    assert unknown["met"] is None and "more than 50%" in unknown["note"]
