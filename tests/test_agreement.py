"""Agreement between annotators: figures computed by hand on two-annotator fixtures, snapshots, the CLI."""

from __future__ import annotations

import json

import pytest
from annotator_fixtures import T1, T4, alice, assert_clean_failure, bob, record, renamed, snapshot_missing, write_rows, write_snapshot
from conftest import ROOT
from typer.testing import CliRunner

from workbench.annotations.agreement import match_overlapping, measure_agreement
from workbench.annotations.snapshot import load_sources
from workbench.cli import app
from workbench.errors import WorkbenchError

runner = CliRunner()
LABELS = str(ROOT / "configs" / "labels.yml")


@pytest.fixture
def two_files(tmp_path):
    return [write_rows(tmp_path / "alice.jsonl", alice()), write_rows(tmp_path / "bob.jsonl", bob())]


@pytest.fixture
def figures(two_files, scheme):
    return measure_agreement(load_sources(two_files), scheme)


def test_entity_f1_exact_and_overlap_by_hand(figures):
    micro, per_label = figures["entities"]["micro"], figures["entities"]["per_label"]
    # Compared: d1 and d2. alice has 5 + 2 = 7 spans, bob 4 + 2 = 6.
    # Exact matches: d1 ROLE, Tom Barrack, Ankara; d2 both persons = 5.
    assert micro["spans"] == [7, 6]
    assert micro["f1_exact"] == pytest.approx(2 * 5 / (7 + 6), abs=1e-6)
    # Overlap adds "Hakan Fidan" ~ "Fidan" (same label, overlapping) = 6.
    assert micro["f1_overlap"] == pytest.approx(2 * 6 / (7 + 6), abs=1e-6)
    # PERSON: 4 spans each, 3 exact, 4 by overlap.
    assert per_label["PERSON"]["f1_exact"] == pytest.approx(2 * 3 / (4 + 4))
    assert per_label["PERSON"]["f1_overlap"] == 1.0
    # DATE: only alice; LOC: nobody, so nothing to score.
    assert per_label["DATE"]["f1_exact"] == 0.0 and per_label["DATE"]["spans"] == [1, 0]
    assert per_label["LOC"]["f1_exact"] is None


def test_token_kappa_by_hand(figures):
    # 19 tokens: d1 has 12 (Foreign Minister Hakan Fidan met Tom Barrack in Ankara on Tuesday .), d2 has 7.
    # They differ on 3: Hakan (B-PERSON / O), Fidan (L-PERSON / U-PERSON), Tuesday (U-DATE / O): p_o = 16/19.
    # Tag counts alice / bob: B-ROLE 1/1, L-ROLE 1/1, B-PERSON 2/1, L-PERSON 2/1, U-PERSON 2/3,
    # U-GPE 1/1, U-DATE 1/0, O 9/11, so p_e = (1 + 1 + 2 + 2 + 6 + 1 + 0 + 99) / 19² = 112/361.
    # kappa = (16/19 - 112/361) / (1 - 112/361) = 192/249.
    assert figures["entities"]["micro"]["tokens"] == 19
    assert figures["entities"]["micro"]["kappa"] == pytest.approx(192 / 249, abs=1e-6)


def test_relation_f1_by_hand_with_symmetry_and_missing_arguments(figures):
    micro, per_type = figures["relations"]["micro"], figures["relations"]["per_type"]
    # alice: HAS_ROLE, MET (d1), SPOKE_WITH (d2) = 3; bob: MET (d1), SPOKE_WITH reversed, MET (d2) = 3.
    # Only SPOKE_WITH agrees (symmetric, so direction does not count).
    assert micro["relations"] == [3, 3]
    assert micro["f1"] == pytest.approx(2 * 1 / (3 + 3), abs=1e-6)
    assert per_type["SPOKE_WITH"]["f1"] == 1.0
    assert per_type["MET"]["f1"] == 0.0 and per_type["MET"]["relations"] == [1, 2]
    # alice's HAS_ROLE and MET use "Hakan Fidan", bob's MET uses "Fidan": each lacks the other's span.
    # bob's MET in d2 is between spans alice has too, so it is a relation disagreement proper.
    assert per_type["HAS_ROLE"]["missing_arguments"] == 1
    assert per_type["MET"]["missing_arguments"] == 2
    assert micro["missing_arguments"] == 3


def test_only_documents_both_confirmed_are_compared_and_counted(figures):
    assert figures["annotators"] == ["alice", "bob"]
    assert figures["documents"] == 2
    (pair,) = figures["pairs"]
    assert pair["documents"] == 2
    assert pair["skipped"] == [
        {"doc_id": "d3", "status": {"alice": "confirmed", "bob": "unconfirmed"}},
        {"doc_id": "d4", "status": {"alice": "confirmed", "bob": "missing"}},
    ]


def test_per_document_shows_the_worst_first(figures):
    first, second = figures["per_document"]
    # d1: exact disagreements Hakan Fidan, Fidan, Tuesday (3) + relations 2 + 1 = 6; d2: bob's MET = 1.
    assert (first["doc_id"], first["disagreements"]) == ("d1", 6)
    assert (second["doc_id"], second["disagreements"]) == ("d2", 1)
    assert first["relations"]["missing_arguments"] == 3
    assert second["entities"]["f1_exact"] == 1.0 and second["entities"]["kappa"] == 1.0


def test_identical_annotators_agree_fully(tmp_path, scheme):
    paths = [write_rows(tmp_path / "a.jsonl", alice()), write_rows(tmp_path / "b.jsonl", renamed(alice(), "carol"))]
    figures = measure_agreement(load_sources(paths), scheme)
    micro = figures["entities"]["micro"]
    assert figures["documents"] == 4
    assert (micro["f1_exact"], micro["f1_overlap"], micro["kappa"]) == (1.0, 1.0, 1.0)
    assert figures["relations"]["micro"]["f1"] == 1.0
    assert all(d["disagreements"] == 0 for d in figures["per_document"])


def test_three_annotators_are_compared_pair_by_pair(tmp_path, scheme):
    carol = renamed(alice(), "carol") + [record("d5", T4, "carol", [])]
    paths = [write_rows(tmp_path / f"{n}.jsonl", rows) for n, rows in (("alice", alice()), ("bob", bob()), ("carol", carol))]
    figures = measure_agreement(load_sources(paths), scheme)
    pairs = {tuple(p["annotators"]): p for p in figures["pairs"]}
    assert sorted(pairs) == [("alice", "bob"), ("alice", "carol"), ("bob", "carol")]
    # Only carol has d5: left out of the pairs with her, and not mentioned for alice and bob.
    assert [s["doc_id"] for s in pairs[("alice", "bob")]["skipped"]] == ["d3", "d4"]
    assert pairs[("alice", "carol")]["skipped"] == [{"doc_id": "d5", "status": {"alice": "missing", "carol": "confirmed"}}]
    assert pairs[("alice", "carol")]["entities"]["f1_exact"] == 1.0
    assert pairs[("bob", "carol")]["entities"]["f1_exact"] == pytest.approx(10 / 13, abs=1e-6)
    # alice and carol both confirmed all four documents (11 spans each, all matching); bob and carol
    # compare d1 and d2 like alice and bob. Pooled: (5 + 11 + 5) matches of (7+6) + (11+11) + (6+7) spans.
    assert pairs[("alice", "carol")]["documents"] == 4
    assert figures["entities"]["micro"]["f1_exact"] == pytest.approx(2 * 21 / 48, abs=1e-6)


@pytest.mark.parametrize(
    "first, second, matches",
    [
        # One long span overlaps two short ones: it can be matched only once.
        ([(0, 10)], [(0, 4), (5, 10)], 1),
        # Greedy by largest overlap would pair (5, 10) with nothing; augmenting finds two pairs.
        ([(0, 4), (5, 10)], [(0, 10), (3, 6)], 2),
        ([(0, 4)], [(4, 8)], 0),
    ],
)
def test_overlap_matching_is_one_to_one_and_largest(first, second, matches):
    pairs = match_overlapping(first, second)
    assert len(pairs) == matches
    assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == matches


def test_snapshot_is_read_and_verified(tmp_path, scheme):
    directory = write_snapshot(tmp_path, "round-1", {"alice": alice(), "bob": bob()})
    snapshot = load_sources([directory])
    assert snapshot.source == "round-1" and len(snapshot.manifest_sha256) == 64
    assert snapshot.status("bob", "d3") == "unconfirmed" and snapshot.status("bob", "d4") == "missing"
    figures = measure_agreement(snapshot, scheme)
    assert figures["source"] == {"snapshot": "round-1", "manifest_sha256": snapshot.manifest_sha256}


def test_snapshot_with_a_changed_file_fails(tmp_path):
    directory = write_snapshot(tmp_path, "round-1", {"alice": alice(), "bob": bob()})
    write_rows(directory / "annotators" / "bob.jsonl", bob()[:1])
    with pytest.raises(WorkbenchError, match="sha256 differs from manifest.json") as exc:
        load_sources([directory])
    assert "bob.jsonl" in str(exc.value)


def test_missing_annotator_file_is_reported(tmp_path):
    directory = snapshot_missing(tmp_path, "bob")
    result = runner.invoke(app, ["annotations", "agreement", str(directory), "--json", str(tmp_path / "a.json"), "--labels", LABELS])
    assert_clean_failure(result, "annotators/bob.jsonl is listed in manifest.json but missing")
    assert not (tmp_path / "a.json").exists()


def test_plain_files_take_the_annotator_from_the_record_or_the_file(tmp_path):
    rows = alice()[:1]
    del rows[0]["annotator"], rows[0]["confirmed"]
    mixed = write_rows(tmp_path / "export.jsonl", [*renamed(alice()[:2], "dora"), *renamed(bob()[:1], "erik")])
    snapshot = load_sources([write_rows(tmp_path / "frank.jsonl", rows), mixed])
    assert snapshot.annotators == ["dora", "erik", "frank"]
    # No "confirmed" key counts as confirmed.
    assert snapshot.confirmed_by("d1") == ["dora", "erik", "frank"]


def test_one_annotator_only_is_an_error(tmp_path, scheme):
    with pytest.raises(WorkbenchError, match="two annotators or more; found alice"):
        measure_agreement(load_sources([write_rows(tmp_path / "alice.jsonl", alice())]), scheme)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda rows: rows[1].update(text=T1), "text differs from annotator 'alice'"),
        (lambda rows: rows[0]["relations"].append({"id": 9, "from_id": 1, "to_id": 42, "type": "MET"}), "relation 9 points at a missing entity"),
        (lambda rows: rows[0].update(confirmed="yes"), "'confirmed' must be true or false"),
        (lambda rows: rows.append(rows[0]), r"has this document twice \(also"),
    ],
)
def test_bad_annotator_files_fail_at_their_line(tmp_path, change, message):
    rows = bob()
    change(rows)
    paths = [write_rows(tmp_path / "alice.jsonl", alice()), write_rows(tmp_path / "bob.jsonl", rows)]
    with pytest.raises(WorkbenchError, match=message) as exc:
        load_sources(paths)
    assert str(exc.value).startswith(f"{paths[1]}:")


def test_overlapping_spans_of_one_annotator_name_the_record(tmp_path, scheme):
    rows = bob()
    rows[0]["entities"].append({"id": 9, "label": "ROLE", "start_offset": 8, "end_offset": 16})
    paths = [write_rows(tmp_path / "alice.jsonl", alice()), write_rows(tmp_path / "bob.jsonl", rows)]
    with pytest.raises(WorkbenchError, match="overlapping entities") as exc:
        measure_agreement(load_sources(paths), scheme)
    assert str(exc.value).startswith(f"{paths[1]}:1 [d1]")


def test_cli_writes_json_markdown_and_plot(tmp_path):
    directory = write_snapshot(tmp_path, "round-1", {"alice": alice(), "bob": bob()})
    out = tmp_path / "reports" / "agreement.json"
    result = runner.invoke(app, ["annotations", "agreement", str(directory), "--json", str(out), "--labels", LABELS])
    assert result.exit_code == 0, result.output
    assert "2 documents compared (alice, bob; 2 document-pairs not confirmed by both, left out)" in result.output
    figures = json.loads(out.read_text())
    assert set(figures) >= {"annotators", "documents", "entities", "relations", "per_document"}
    assert set(figures["entities"]["micro"]) >= {"f1_exact", "f1_overlap", "kappa"}
    report = out.with_suffix(".md").read_text()
    assert "![agreement per label and relation type](agreement.png)" in report
    assert "d3 (alice confirmed, bob unconfirmed); d4 (alice confirmed, bob missing)" in report
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The same snapshot gives the same files.
    before = {p: p.read_bytes() for p in out.parent.iterdir()}
    runner.invoke(app, ["annotations", "agreement", str(directory), "--json", str(out), "--labels", LABELS])
    assert {p: p.read_bytes() for p in out.parent.iterdir()} == before
