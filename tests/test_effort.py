"""Correction effort: a hand-made pushed/pulled pair, counted by hand."""

from __future__ import annotations

import json

import pytest
from conftest import write_jsonl
from typer.testing import CliRunner

from workbench.annotations.effort import compare, measure_effort, read_pushed
from workbench.annotations.snapshot import load_sources
from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.records import AnnotatedDoc, Entity, Relation

runner = CliRunner()
TEXT = "Ann Lee met Bob Day in Rome and Paris today , French sources said ."


def span(number, label, words: str, start_at: int = 0) -> Entity:
    start = TEXT.index(words, start_at)
    return Entity(number, label, start, start + len(words))


# Pushed: Ann Lee, Bob Day, Rome (GPE), Paris (LOC), today, and "met" wrongly an ORG.
PUSHED = AnnotatedDoc(
    "d1", TEXT,
    [span(1, "PERSON", "Ann Lee"), span(2, "PERSON", "Bob Day"), span(3, "GPE", "Rome"), span(4, "LOC", "Paris"),
     span(5, "DATE", "today"), span(6, "ORG", "met")],
    [Relation(1, 1, 2, "MET"), Relation(2, 1, 3, "AFFILIATION"), Relation(3, 2, 3, "AFFILIATION"), Relation(4, 1, 6, "AFFILIATION")],
)
# The annotator: Bob only (boundary), Paris a GPE (label), "met" gone, French added;
# MET became SPOKE_WITH written the other way round, Ann -> Paris added.
FINAL = AnnotatedDoc(
    "d1", TEXT,
    [span(11, "PERSON", "Ann Lee"), span(12, "PERSON", "Bob"), span(13, "GPE", "Rome"), span(14, "GPE", "Paris"),
     span(15, "DATE", "today"), span(16, "NORP", "French")],
    [Relation(1, 12, 11, "SPOKE_WITH"), Relation(2, 11, 13, "AFFILIATION"), Relation(3, 12, 13, "AFFILIATION"), Relation(4, 11, 14, "AFFILIATION")],
    {"annotator": "alice", "confirmed": True},
)
SYMMETRIC = {"MET", "SPOKE_WITH"}


def test_counts_on_a_hand_made_pair():
    effort = compare(PUSHED, FINAL, SYMMETRIC)
    # Entities: kept Ann Lee, Rome, today; label Paris LOC->GPE; boundary Bob Day->Bob;
    # deleted "met"; added French. 3 of 6 pushed kept.
    assert effort.entities.to_dict() == {
        "kept": 3, "changed_label": 1, "changed_boundary": 1, "deleted": 1, "added": 1, "pushed": 6, "kept_share": 0.5,
    }
    # Relations: kept Ann-Rome; boundary Bob-Rome (Bob's span changed); label MET -> SPOKE_WITH
    # (symmetric, so the reversed direction is the same pair); deleted Ann-"met"; added Ann-Paris.
    assert effort.relations.to_dict() == {
        "kept": 1, "changed_label": 1, "changed_boundary": 1, "deleted": 1, "added": 1, "pushed": 4, "kept_share": 0.25,
    }


def test_direction_matters_for_directed_types():
    # Read as directed, the reversed SPOKE_WITH no longer meets MET's pair: MET is deleted and it is added.
    effort = compare(PUSHED, FINAL, set())
    assert (effort.relations.changed_label, effort.relations.deleted, effort.relations.added) == (0, 2, 2)


def test_report_counts_confirmed_pushed_documents_per_annotator(tmp_path, scheme):
    pushed_file = write_jsonl(tmp_path / "pre-annotations.jsonl", [PUSHED.to_dict()])
    untouched = {**PUSHED.to_dict(), "annotator": "bob", "confirmed": True}
    unconfirmed = {**FINAL.to_dict(), "annotator": "bob", "doc_id": "d1", "confirmed": False}
    never_pushed = {**FINAL.to_dict(), "doc_id": "d2", "annotator": "alice", "confirmed": True}
    write_jsonl(tmp_path / "alice.jsonl", [FINAL.to_dict(), never_pushed])
    write_jsonl(tmp_path / "bob.jsonl", [untouched])
    write_jsonl(tmp_path / "carol.jsonl", [{**unconfirmed, "annotator": "carol"}])
    snapshot = load_sources([tmp_path / "alice.jsonl", tmp_path / "bob.jsonl", tmp_path / "carol.jsonl"])
    report = measure_effort(snapshot, read_pushed([pushed_file]), scheme).to_dict()
    assert report["annotators"]["bob"]["entities"]["kept_share"] == 1.0 and report["annotators"]["bob"]["relations"]["kept"] == 4
    assert report["annotators"]["alice"]["documents"] == 1 and report["annotators"]["alice"]["entities"]["kept"] == 3
    assert report["annotators"]["carol"]["documents"] == 0  # unconfirmed work is not counted
    assert report["documents_without_pre_annotations"] == {"alice": 1, "bob": 0, "carol": 0}

    out = tmp_path / "effort.json"
    result = runner.invoke(app, ["annotations", "effort", str(tmp_path / "alice.jsonl"), str(tmp_path / "bob.jsonl"),
                                 "--pushed", str(pushed_file), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["annotators"]["alice"]["relations"]["kept_share"] == 0.25
    assert "alice" in result.output and "50.0" in result.output and "25.0" in result.output


def test_conflicting_push_records_and_other_texts_are_named(tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [PUSHED.to_dict()])
    other = {**PUSHED.to_dict(), "entities": PUSHED.to_dict()["entities"][:2], "relations": []}
    second = write_jsonl(tmp_path / "b.jsonl", [other])
    with pytest.raises(WorkbenchError, match="pushed with other pre-annotations") as err:
        read_pushed([first, second])
    assert err.value.doc_id == "d1"
    with pytest.raises(WorkbenchError, match="another text"):
        compare(PUSHED, AnnotatedDoc("d1", TEXT + " More.", [], []), SYMMETRIC)
