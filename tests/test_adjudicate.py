"""Adjudication into gold: votes, conflicts with who said what, review records and resolved reviews, the CLI."""

from __future__ import annotations

import json

import pytest
from annotator_fixtures import T1, alice, assert_clean_failure, bob, ent, record, rel, renamed, snapshot_missing, write_rows, write_snapshot
from conftest import ROOT
from typer.testing import CliRunner

from workbench.annotations.adjudicate import adjudicate, apply_review, build_record, conflict_report, resolved_reviews, review_records
from workbench.annotations.snapshot import load_sources
from workbench.annotations.validate import validate_files
from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.records import AnnotatedDoc, read_records, record_from_dict

runner = CliRunner()
LABELS = str(ROOT / "configs" / "labels.yml")


def spans(record: AnnotatedDoc) -> list[tuple[str, str, list]]:
    return [(record.text[e.start : e.end], e.label, e.attrs["annotators"]) for e in record.entities]


def relations(record: AnnotatedDoc) -> list[tuple[str, str, str, list]]:
    by_id = record.entity_by_id()
    return [
        (record.text[by_id[r.head].start : by_id[r.head].end], r.type, record.text[by_id[r.tail].start : by_id[r.tail].end], r.attrs["annotators"])
        for r in record.relations
    ]


@pytest.fixture
def snapshot(tmp_path):
    return load_sources([write_snapshot(tmp_path, "round-1", {"alice": alice(), "bob": bob()})])


@pytest.fixture
def result(snapshot, scheme):
    return adjudicate(snapshot, scheme)


def test_two_annotators_majority_takes_what_both_made(result, snapshot):
    d1, d2 = result.gold
    both = ["alice", "bob"]
    assert spans(d1) == [("Foreign Minister", "ROLE", both), ("Tom Barrack", "PERSON", both), ("Ankara", "GPE", both)]
    # Both MET relations of d1 use a Fidan span that only one annotator marked.
    assert d1.relations == []
    assert spans(d2) == [("Fidan", "PERSON", both), ("Gerapetritis", "PERSON", both)]
    # SPOKE_WITH was drawn in both directions; symmetric, so it is one relation, in text order.
    assert relations(d2) == [("Fidan", "SPOKE_WITH", "Gerapetritis", both)]
    assert d1.meta["adjudication"] == {
        "snapshot": "round-1",
        "manifest_sha256": snapshot.manifest_sha256,
        "policy": "majority",
        "annotators": both,
        "conflicts": 5,
        "provenance": "vote",
    }
    assert "annotator" not in d1.meta and "confirmed" not in d1.meta and d1.meta["source"] == "fixture"


def test_unconfirmed_and_missing_documents_stay_out(result):
    assert [r.doc_id for r in result.gold] == ["d1", "d2"]
    assert result.skipped == [
        {"doc_id": "d3", "status": {"alice": "confirmed", "bob": "unconfirmed"}},
        {"doc_id": "d4", "status": {"alice": "confirmed", "bob": "missing"}},
    ]


def test_conflicts_say_who_said_what(result):
    report = conflict_report(result)
    # d1: the Fidan spans (one stretch), the DATE, and three relations; d2: bob's MET.
    assert report["conflicts"] == 6
    d1 = report["per_document"][0]["conflicts"]
    assert [c["kind"] for c in d1] == ["entity", "entity", "relation", "relation", "relation"]
    fidan = d1[0]
    assert (fidan["start"], fidan["end"], fidan["text"]) == (17, 28, "Hakan Fidan")
    assert [s["text"] for s in fidan["versions"]["alice"]] == ["Hakan Fidan"]
    assert [s["text"] for s in fidan["versions"]["bob"]] == ["Fidan"]
    assert d1[1]["versions"] == {"alice": [{"label": "DATE", "start": 58, "end": 65, "text": "Tuesday", "in_gold": False}], "bob": []}
    has_role = d1[2]
    assert (has_role["type"], has_role["by"], has_role["not_by"]) == ("HAS_ROLE", ["alice"], ["bob"])
    d2 = report["per_document"][1]["conflicts"]
    assert [(c["type"], c["by"]) for c in d2] == [("MET", ["bob"])]


def test_majority_and_unanimous_differ_with_three_annotators(tmp_path, scheme):
    # carol repeats bob's d1 and d2: bob and carol are a majority for "Fidan" and their MET.
    paths = [write_rows(tmp_path / f"{n}.jsonl", rows) for n, rows in (("alice", alice()), ("bob", bob()), ("carol", renamed(bob()[:2], "carol")))]
    snapshot = load_sources(paths)
    majority = adjudicate(snapshot, scheme, "majority")
    d1 = majority.gold[0]
    assert ("Fidan", "PERSON", ["bob", "carol"]) in spans(d1)
    assert ("Hakan Fidan", "PERSON", ["alice"]) not in spans(d1)
    # MET is symmetric: stored in text order, Fidan before Tom Barrack.
    assert relations(d1) == [("Fidan", "MET", "Tom Barrack", ["bob", "carol"])]
    unanimous = adjudicate(snapshot, scheme, "unanimous")
    assert [s[0] for s in spans(unanimous.gold[0])] == ["Foreign Minister", "Tom Barrack", "Ankara"]
    assert unanimous.gold[0].relations == []


def test_relation_enters_only_with_both_arguments():
    base = AnnotatedDoc("d1", T1)
    head, tail = (17, 28, "PERSON"), (33, 44, "PERSON")
    record = build_record(base, {head: ["alice"]}, {((head, tail), "MET"): ["alice"]}, {})
    assert record.relations == []
    record = build_record(base, {head: ["alice"], tail: ["alice"]}, {((head, tail), "MET"): ["alice"]}, {})
    assert [(r.head, r.tail, r.type) for r in record.relations] == [(1, 2, "MET")]


def test_gold_is_valid_canonical_jsonl(result, tmp_path, scheme):
    from workbench.records import write_records

    path = tmp_path / "gold.jsonl"
    write_records(path, result.gold)
    problems, count = validate_files([path], scheme)
    assert (problems, count) == ([], 2)
    assert [r.to_dict() for r in read_records(path)] == [r.to_dict() for r in result.gold]


def test_min_annotators_one_takes_single_confirmations(snapshot, scheme):
    result = adjudicate(snapshot, scheme, min_annotators=1)
    assert [r.doc_id for r in result.gold] == ["d1", "d2", "d3", "d4"]
    # d3: only alice confirmed it, so alice is the only voter.
    assert spans(result.gold[2]) == [("Qatar", "GPE", ["alice"]), ("Doha", "GPE", ["alice"])]


def test_review_records_hold_every_version(result):
    review = review_records(result)
    assert [r.doc_id for r in review] == ["d1", "d2"]
    d1 = review[0]
    assert spans(d1) == [
        ("Foreign Minister", "ROLE", ["alice", "bob"]),
        ("Hakan Fidan", "PERSON", ["alice"]),
        ("Fidan", "PERSON", ["bob"]),
        ("Tom Barrack", "PERSON", ["alice", "bob"]),
        ("Ankara", "GPE", ["alice", "bob"]),
        ("Tuesday", "DATE", ["alice"]),
    ]
    assert sorted(relations(d1)) == [
        ("Fidan", "MET", "Tom Barrack", ["bob"]),
        ("Hakan Fidan", "HAS_ROLE", "Foreign Minister", ["alice"]),
        ("Hakan Fidan", "MET", "Tom Barrack", ["alice"]),
    ]
    assert d1.meta["review_notes"][0] == "17-28 'Hakan Fidan': alice: PERSON 'Hakan Fidan'; bob: PERSON 'Fidan'"
    # What goes to review reads back as a canonical record.
    assert record_from_dict(json.loads(json.dumps(d1.to_dict()))).to_dict() == d1.to_dict()


def resolved_d1(reviewer: str = "rita", confirmed: bool = True) -> dict:
    """The adjudicator keeps alice's version of d1, drawing MET the other way round."""
    entities = [ent(1, T1, "Foreign Minister", "ROLE"), ent(2, T1, "Hakan Fidan", "PERSON"), ent(3, T1, "Tom Barrack", "PERSON"), ent(4, T1, "Ankara", "GPE"), ent(5, T1, "Tuesday", "DATE")]
    return record("d1", T1, reviewer, entities, [rel(1, 2, 1, "HAS_ROLE"), rel(2, 3, 2, "MET")], confirmed=confirmed)


def test_resolved_review_replaces_the_document(result, scheme, tmp_path):
    review = load_sources([write_rows(tmp_path / "review.jsonl", [resolved_d1(), resolved_d1("sam", confirmed=False)])])
    resolved = resolved_reviews(review)
    assert [(r.doc_id, r.meta["annotator"]) for r in resolved] == [("d1", "rita")]
    apply_review(result, resolved, scheme)
    d1 = result.gold[0]
    assert spans(d1) == [
        ("Foreign Minister", "ROLE", ["alice", "bob"]),
        ("Hakan Fidan", "PERSON", ["alice"]),
        ("Tom Barrack", "PERSON", ["alice", "bob"]),
        ("Ankara", "GPE", ["alice", "bob"]),
        ("Tuesday", "DATE", ["alice"]),
    ]
    # MET was drawn Tom Barrack -> Hakan Fidan in review; symmetric, so it is alice's relation.
    assert sorted(relations(d1)) == [("Hakan Fidan", "HAS_ROLE", "Foreign Minister", ["alice"]), ("Hakan Fidan", "MET", "Tom Barrack", ["alice"])]
    adjudication = d1.meta["adjudication"]
    assert (adjudication["provenance"], adjudication["reviewer"], adjudication["conflicts"], adjudication["resolved_conflicts"]) == ("review", "rita", 0, 5)
    report = conflict_report(result)
    assert report["conflicts"] == 1
    assert report["per_document"][0]["reviewed"] and report["per_document"][0]["reviewer"] == "rita"


def test_reviewer_additions_have_no_annotators(result, scheme):
    # The adjudicator marks "Tom" alone, which no annotator did.
    resolved = record("d1", T1, "rita", [ent(1, T1, "Foreign Minister", "ROLE"), ent(2, T1, "Tom", "PERSON")])
    apply_review(result, [record_from_dict(resolved)], scheme)
    assert spans(result.gold[0]) == [("Foreign Minister", "ROLE", ["alice", "bob"]), ("Tom", "PERSON", [])]


def test_an_empty_resolution_empties_the_document(result, scheme):
    resolved = record("d2", "Fidan spoke with Gerapetritis by phone.", "rita", [])
    apply_review(result, [record_from_dict(resolved)], scheme)
    assert result.gold[1].entities == [] and result.gold[1].meta["adjudication"]["provenance"] == "review"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.update(doc_id="d9"), "not among the documents with conflicts"),
        (lambda r: r.update(text=T1.replace("Tuesday", "Monday")), "reviewed text differs"),
    ],
)
def test_review_of_an_unknown_or_changed_document_fails(result, scheme, change, message):
    row = resolved_d1()
    change(row)
    with pytest.raises(WorkbenchError, match=message):
        apply_review(result, [record_from_dict(row)], scheme)


def test_document_resolved_twice_is_an_error(tmp_path):
    review = load_sources([write_rows(tmp_path / "rita.jsonl", [resolved_d1("rita")]), write_rows(tmp_path / "sam.jsonl", [resolved_d1("sam")])])
    with pytest.raises(WorkbenchError, match="resolved by both rita and sam"):
        resolved_reviews(review)


def test_cli_adjudicates_writes_conflicts_and_applies_a_review(tmp_path):
    directory = write_snapshot(tmp_path / "snapshots", "round-1", {"alice": alice(), "bob": bob()})
    review_snapshot = write_snapshot(tmp_path / "snapshots", "review-1", {"rita": [resolved_d1()]})
    gold = tmp_path / "gold" / "diplomatic.jsonl"
    review = tmp_path / "review.jsonl"
    args = ["annotations", "adjudicate", str(directory), "-o", str(gold), "--labels", LABELS, "--review-file", str(review)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "gold: 2 documents (majority), 6 open conflicts in 2 documents, 2 documents with too few confirmations left out" in result.output
    assert [r.doc_id for r in read_records(review)] == ["d1", "d2"]
    markdown = (tmp_path / "gold" / "diplomatic.conflicts.md").read_text()
    assert "- 58-65 'Tuesday': alice: DATE 'Tuesday'; bob: nothing" in markdown
    assert "d3 (alice confirmed, bob unconfirmed)" in markdown

    result = runner.invoke(app, [*args, "--resolved", str(review_snapshot)])
    assert result.exit_code == 0, result.output
    assert "resolved in review: 1 document\n" in result.output
    assert read_records(gold)[0].meta["adjudication"]["provenance"] == "review"
    conflicts = json.loads((tmp_path / "gold" / "diplomatic.conflicts.json").read_text())
    assert conflicts["conflicts"] == 1
    validated = runner.invoke(app, ["annotations", "validate", str(gold), "--labels", LABELS, "--no-corpus"])
    assert validated.exit_code == 0, validated.output


def test_cli_missing_annotator_file_and_bad_policy(tmp_path):
    directory = snapshot_missing(tmp_path, "alice")
    result = runner.invoke(app, ["annotations", "adjudicate", str(directory), "-o", str(tmp_path / "g.jsonl"), "--labels", LABELS])
    assert_clean_failure(result, "annotators/alice.jsonl is listed in manifest.json but missing")
    assert not (tmp_path / "g.jsonl").exists()
    result = runner.invoke(app, ["annotations", "adjudicate", str(directory), "-o", str(tmp_path / "g.jsonl"), "--policy", "plurality"])
    assert result.exit_code == 2


def test_nothing_to_adjudicate_is_an_error(tmp_path, scheme):
    with pytest.raises(WorkbenchError, match="no document was confirmed by 2 annotators"):
        adjudicate(load_sources([write_rows(tmp_path / "alice.jsonl", alice())]), scheme)
