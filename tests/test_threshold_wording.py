"""Threshold choices say what happened: a type with too little dev support reads "kept ..., not tuned", never "tuned".

Also the thresholds recommended from cross-validation's pooled out-of-fold scores, on a hand-made pooled set.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench.relations.thresholds import threshold_note
from workbench.experiments.pooled_thresholds import format_pooled_thresholds, pooled_threshold_report

ROOT = Path(__file__).resolve().parents[1]


def test_notes_never_call_a_kept_threshold_tuned():
    note = threshold_note("too_little_support", 0.5, 5, 20, None)
    assert note == "kept at the config's 0.5, not tuned (dev has 5 < 20 relations of this type)"
    assert threshold_note("no_qualifying_cut", 0.5, 30, 20, 0.9) == "kept at the config's 0.5, not tuned (no cut reaches dev precision 0.9)"
    assert threshold_note("no_qualifying_cut", 0.5, 30, 20, None) == (
        "kept at the config's 0.5, not tuned (no cut finds any of the 30 dev relations of this type)"
    )
    assert threshold_note("tuned", 0.41, 43, 20, None) == "tuned on dev to the highest cut within one standard error of the best dev F1 (dev has 43 relations of this type)"


@pytest.fixture
def tuned_model(tmp_path, ruler_rel_model, gold_records):
    """The ruler pipeline's (untrained) relation model tuned on all bundled gold, as train_pipeline tunes: min support 20."""
    from workbench.docs import gold_docs, write_docbin
    from workbench.training.tune import tune_model_thresholds

    model = tmp_path / "model"
    shutil.copytree(ruler_rel_model, model)
    dev = write_docbin(tmp_path / "dev.spacy", gold_docs(gold_records))
    return model, tune_model_thresholds(model, dev, None, 20)


def test_types_below_min_support_are_reported_kept_everywhere(tuned_model):
    from workbench.training.tune import REPORT_NAME, format_threshold_report

    model, report = tuned_model
    # The bundled gold holds 43 HAS_ROLE, 34 AFFILIATION, 5 MET and 23 SPOKE_WITH relations
    # (`workbench annotations stats`): only MET is below 20.
    per_type = report["per_type"]
    assert {label: row["support"] for label, row in per_type.items()} == {"HAS_ROLE": 43, "AFFILIATION": 34, "MET": 5, "SPOKE_WITH": 23}
    met = per_type["MET"]
    assert (met["status"], met["changed"], met["threshold"]) == ("too_little_support", False, 0.5)
    assert met["note"] == "kept at the config's 0.5, not tuned (dev has 5 < 20 relations of this type)"
    assert json.loads((model / REPORT_NAME).read_text())["per_type"]["MET"]["note"] == met["note"]
    printed = format_threshold_report(report)
    met_line = next(line for line in printed.splitlines() if line.strip().startswith("MET"))
    assert "kept at the config's 0.5, not tuned (dev has 5 < 20 relations of this type)" in met_line
    assert "tuned on dev" not in met_line and "best" not in met_line
    tuned = [label for label, row in per_type.items() if row["status"] == "tuned"]
    assert report["summary"] == f"relation thresholds: {len(tuned)} tuned on dev (highest cut within one standard error of the best dev F1), {4 - len(tuned)} kept"
    for label in tuned:
        assert per_type[label]["note"].startswith("tuned on dev to the highest cut within one standard error of the best dev F1")


def test_summary_says_none_tuned_when_no_type_has_the_support(tmp_path, ruler_rel_model, gold_records):
    from workbench.docs import gold_docs, write_docbin
    from workbench.training.tune import format_threshold_report, tune_model_thresholds

    model = tmp_path / "model"
    shutil.copytree(ruler_rel_model, model)
    dev = write_docbin(tmp_path / "dev.spacy", gold_docs(gold_records[:1]))
    printed = format_threshold_report(tune_model_thresholds(model, dev, None, 100))
    assert printed.startswith("relation thresholds: none tuned, every type kept its threshold")
    assert "best" not in printed and "tuned on dev" not in printed
    assert all("not tuned (dev has" in line for line in printed.splitlines()[1:])


# --- pooled out-of-fold thresholds (crossval) --------------------------------------------------

# Three folds' held-out (score, is_gold) cells, gold relations per type and the thresholds they ran with.
FOLDS = [
    ({"MET": [(0.9, True), (0.6, False), (0.3, True)], "SPOKE_WITH": [(0.6, True)]}, {"MET": 2, "SPOKE_WITH": 1}, {"MET": 0.5, "SPOKE_WITH": 0.5}),
    ({"MET": [(0.8, True), (0.4, True), (0.2, False)], "SPOKE_WITH": []}, {"MET": 3, "SPOKE_WITH": 0}, {"MET": 0.5, "SPOKE_WITH": 0.5}),
    ({"MET": [(0.7, False), (0.1, True)], "SPOKE_WITH": [(0.4, True)]}, {"MET": 1, "SPOKE_WITH": 1}, {"MET": 0.5, "SPOKE_WITH": 0.5}),
]


def test_pooled_recommendation_with_optimistic_and_nested_figures():
    report = pooled_threshold_report(FOLDS, min_support=3, target_precision=None, scored_on="end to end")
    met = report["per_type"]["MET"]
    # MET pooled, 6 gold: 0.9T 0.8T 0.7F 0.6F 0.4T 0.3T 0.2F 0.1T. F1 going down the list:
    # .286 .5 .444 .4 .545 .667 .615 then all kept: tp 5 fp 3, F1 5/7 = .714, the best.
    # One standard error: sqrt(.714 * .286 / 6) = .184, so F1 >= .530 qualifies; the highest
    # such cut is (0.4 + 0.3) / 2 = 0.35 (F1 .545).
    assert met["status"] == "tuned" and met["recommended"] == 0.35
    assert met["on_pooled"] == {"thresholds": [0.35, 0.35, 0.35], "tp": 3, "fp": 2, "gold": 6,
                                "precision": 0.6, "recall": 0.5, "f1": 0.545455}
    # As run, every fold at 0.5: A keeps .9T .6F, B .8T, C .7F: tp 2 fp 2 of 6: P .5, R 1/3, F1 .4.
    assert met["as_run"] == {"thresholds": [0.5, 0.5, 0.5], "tp": 2, "fp": 2, "gold": 6, "precision": 0.5, "recall": 0.333333, "f1": 0.4}
    # Nested, each fold's cut from the other two:
    # A from B+C (.8T .7F .4T .2F .1T, 4 gold): F1 .4 .333 .571 .5 .667; SE .236, F1 >= .431: cut (.4+.2)/2.
    #   A keeps .9T .6F; its .3T sits on that cut (0.30000000000000004 in floats) and is dropped: tp 1 fp 1.
    # B from A+C (.9T .7F .6F .3T .1T, 3 gold): F1 .5 .4 .333 .571 .75; SE .25, F1 >= .5: cut 0.8. B keeps .8T.
    # C from A+B (.9T .8T .6F .4T .3T .2F, 5 gold): F1 .333 .571 .5 .667 .8 .727; SE .179, F1 >= .621: cut .35.
    #   C keeps .7F: tp 0 fp 1. Sum: tp 2 fp 2 of 6: P .5, R 1/3, F1 .4, below the optimistic .545.
    assert met["nested"] == {"thresholds": [pytest.approx(0.3), 0.8, 0.35], "tp": 2, "fp": 2, "gold": 6,
                             "precision": 0.5, "recall": 0.333333, "f1": 0.4}
    # SPOKE_WITH: 2 gold relations pooled, below 3: nothing recommended, and it says so.
    spoke = report["per_type"]["SPOKE_WITH"]
    assert (spoke["status"], spoke["recommended"], spoke["on_pooled"], spoke["nested"]) == ("too_little_support", None, None, None)
    assert spoke["note"] == "no recommendation, not tuned (the pooled folds have 2 < 3 relations of this type)"
    # As run at 0.5: A keeps its 0.6T, C drops its 0.4T: tp 1 fp 0 of 2.
    assert (spoke["as_run"]["tp"], spoke["as_run"]["fp"], spoke["as_run"]["recall"]) == (1, 0, 0.5)
    printed = format_pooled_thresholds(report)
    assert "optimistic" in printed.splitlines()[0]
    assert "  MET: recommended 0.350 (highest cut within one standard error of the best F1 on the pooled out-of-fold scores, 6 gold relations); F1 as run 0.400, " \
           "at the cut on pooled 0.545 (optimistic), nested 0.400" in printed
    assert "  SPOKE_WITH: no recommendation, not tuned (the pooled folds have 2 < 3 relations of this type)" in printed
    # Summed over types, as run: MET tp 2 fp 2, SPOKE_WITH tp 1 fp 0, of 8. At the nested cuts MET is the same and
    # SPOKE_WITH, with no recommendation, stays as run: the estimate of a model at the recommended thresholds.
    total = report["all_types"]
    assert total["as_run"] == {"tp": 3, "fp": 2, "gold": 8, "precision": 0.6, "recall": 0.375, "f1": 0.461538}
    assert total["nested"] == total["as_run"]
    assert total["nested_per_type"]["SPOKE_WITH"] == spoke["as_run"] and total["nested_per_type"]["MET"] == met["nested"]
    assert "  all types, as run: P / R / F1 0.600 / 0.375 / 0.462 (3 of 8 gold, 2 false); at the nested cuts: " in printed


def test_pooled_target_precision_without_a_qualifying_cut():
    # At precision >= 0.95 only the cut above 0.9T and 0.8T qualifies for MET (P 1, tp 2); the lowest is (0.8+0.7)/2.
    report = pooled_threshold_report(FOLDS, min_support=3, target_precision=0.95, scored_on="end to end")
    assert report["per_type"]["MET"]["recommended"] == pytest.approx(0.75)
    assert report["objective"] == "precision >= 0.95"
    # With every gold cell false no cut reaches the target: nothing recommended, said plainly.
    none_true = [({"MET": [(0.9, False)]}, {"MET": 3}, {"MET": 0.5})]
    row = pooled_threshold_report(none_true, 3, 0.95, "end to end")["per_type"]["MET"]
    assert (row["status"], row["note"]) == ("no_qualifying_cut", "no recommendation, not tuned (no cut reaches pooled precision 0.95)")



def test_all_types_sums_the_nested_cuts_and_keeps_a_type_without_a_recommendation_as_run():
    from workbench.experiments.pooled_thresholds import PooledFigures, PooledThreshold, all_types

    tuned = PooledThreshold("HAS_ROLE", 4, "tuned", "", 0.7, PooledFigures((0.5, 0.5), 3, 3, 4),
                            PooledFigures((0.7, 0.7), 2, 1, 4), PooledFigures((0.6, 0.8), 2, 0, 4))
    untuned = PooledThreshold("MET", 2, "too_little_support", "", None, PooledFigures((0.5, 0.5), 1, 1, 2), None, None)
    total = all_types({"HAS_ROLE": tuned, "MET": untuned})
    assert total["as_run"] == {"tp": 4, "fp": 4, "gold": 6, "precision": 0.5, "recall": 0.666667, "f1": 0.571429}
    # HAS_ROLE at its nested cuts (tp 2 fp 0), MET as it ran (tp 1 fp 1); the optimistic on-pooled figures never count.
    assert total["nested"] == {"tp": 3, "fp": 1, "gold": 6, "precision": 0.75, "recall": 0.5, "f1": 0.6}
    assert total["nested_per_type"]["MET"]["thresholds"] == [0.5, 0.5] and total["nested_per_type"]["HAS_ROLE"]["fp"] == 0
