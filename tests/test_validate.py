"""`workbench annotations validate`: every rule, on small bad fixtures, with clear messages and no traceback."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import GOLD, ROOT, write_jsonl
from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()
TEXT = "Greek Foreign Minister George Gerapetritis spoke by phone with Fidan on Tuesday."
GOOD = {
    "doc_id": "d1",
    "text": TEXT,
    "entities": [
        {"id": 1, "label": "NORP", "start_offset": 0, "end_offset": 5},
        {"id": 2, "label": "ROLE", "start_offset": 6, "end_offset": 22},
        {"id": 3, "label": "PERSON", "start_offset": 23, "end_offset": 42},
        {"id": 4, "label": "PERSON", "start_offset": 63, "end_offset": 68},
        {"id": 5, "label": "DATE", "start_offset": 72, "end_offset": 79},
    ],
    "relations": [
        {"id": 1, "from_id": 3, "to_id": 2, "type": "HAS_ROLE"},
        {"id": 2, "from_id": 3, "to_id": 1, "type": "AFFILIATION"},
        {"id": 3, "from_id": 3, "to_id": 4, "type": "SPOKE_WITH"},
    ],
}


def run_validate(tmp_path, rows, *extra):
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    result = runner.invoke(app, ["annotations", "validate", str(path), "--labels", str(ROOT / "configs/labels.yml"), "--no-corpus", *extra])
    return result, path


def assert_no_traceback(result):
    # A clean exit is typer.Exit (a SystemExit); any other exception means a traceback.
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def mutated(change) -> dict:
    row = copy.deepcopy(GOOD)
    change(row)
    return row


def test_the_gold_file_is_valid_against_the_corpus(repo_corpus):
    result = runner.invoke(
        app, ["annotations", "validate", str(GOLD), "--labels", str(ROOT / "configs/labels.yml"), "--corpus", repo_corpus.output]
    )
    assert result.exit_code == 0, result.output
    assert "5 documents, no problems (checked against the corpus)" in result.output


def test_good_fixture_passes(tmp_path):
    result, _ = run_validate(tmp_path, [GOOD])
    assert result.exit_code == 0, result.output


CASES = [
    ("offsets outside", lambda r: r["entities"][4].update(end_offset=500), "offsets outside the text"),
    ("negative offset", lambda r: r["entities"][0].update(start_offset=-1), "offsets outside the text"),
    ("empty span", lambda r: r["entities"][4].update(start_offset=72, end_offset=72), "empty span"),
    ("whitespace", lambda r: r["entities"][4].update(start_offset=71), "leading or trailing whitespace"),
    ("overlap", lambda r: r["entities"].append({"id": 9, "label": "ROLE", "start_offset": 15, "end_offset": 22}), "overlaps"),
    ("duplicate span", lambda r: r["entities"].append({"id": 9, "label": "DATE", "start_offset": 72, "end_offset": 79}), "duplicate span"),
    ("unknown label", lambda r: r["entities"][4].update(label="TIME"), "unknown entity label 'TIME'"),
    ("unknown relation type", lambda r: r["relations"][0].update(type="KNOWS"), "unknown relation type 'KNOWS'"),
    ("missing relation end", lambda r: r["relations"][0].update(to_id=42), "no entity with to_id 42"),
    ("signature", lambda r: r["relations"][0].update(to_id=5), "HAS_ROLE does not allow PERSON -> DATE"),
    ("duplicate relation", lambda r: r["relations"].append({"id": 4, "from_id": 3, "to_id": 2, "type": "HAS_ROLE"}), "duplicate HAS_ROLE"),
    (
        "symmetric duplicate",
        lambda r: r["relations"].append({"id": 4, "from_id": 4, "to_id": 3, "type": "SPOKE_WITH"}),
        "duplicate SPOKE_WITH",
    ),
    ("duplicate entity id", lambda r: r["entities"][4].update(id=1), "entity id 1 is used twice"),
    ("token misaligned", lambda r: r["entities"][4].update(end_offset=77), "spaCy token boundaries"),
    ("wrong type", lambda r: r["entities"][0].update(start_offset="0"), "start_offset must be an integer"),
    ("missing key", lambda r: r["entities"][0].pop("label"), "lacks label"),
    ("no doc_id", lambda r: r.pop("doc_id"), "'doc_id' must be a non-empty string"),
]


@pytest.mark.parametrize("name,change,message", CASES, ids=[c[0] for c in CASES])
def test_each_rule_is_reported_with_location(tmp_path, name, change, message):
    result, path = run_validate(tmp_path, [GOOD, mutated(change)])
    assert result.exit_code == 1
    assert message in result.output
    assert f"{path}:2" in result.output, "the problem names the file and line"
    assert_no_traceback(result)


def test_problem_names_document_and_offsets(tmp_path):
    result, path = run_validate(tmp_path, [mutated(lambda r: r["entities"][4].update(label="TIME"))])
    assert f"{path}:1 [d1] 72-79: unknown entity label 'TIME'" in result.output
    # One of each: singular wording.
    assert result.output.endswith("1 problem in 1 document (corpus not checked)\n")


@pytest.mark.parametrize(
    "raw,message",
    [
        (b'{"doc_id": "x", "text": ', "not valid JSON"),
        (b'["a list"]', "expected a JSON object"),
        (b'{"doc_id": "x", "text": "caf\xe9"}', "not valid UTF-8"),
    ],
    ids=["json", "not-an-object", "utf8"],
)
def test_unreadable_lines_are_problems_not_tracebacks(tmp_path, raw, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + raw + b"\n")
    result = runner.invoke(app, ["annotations", "validate", str(path), "--labels", str(ROOT / "configs/labels.yml"), "--no-corpus"])
    assert result.exit_code == 1
    assert f"{path}:2: {message}" in result.output
    assert_no_traceback(result)


def test_missing_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["annotations", "validate", str(tmp_path / "nope.jsonl"), "--no-corpus"])
    assert result.exit_code == 1
    assert f"{tmp_path / 'nope.jsonl'}: no such annotation file or snapshot folder" in result.output


def test_text_must_match_the_corpus(tmp_path, repo_corpus, gold_records):
    row = gold_records[1].to_dict()
    row["text"] = row["text"].replace("Tuesday", "Tuesdax")
    unknown = {**GOOD, "doc_id": "not-in-corpus"}
    path = write_jsonl(tmp_path / "g.jsonl", [row, unknown])
    result = runner.invoke(
        app, ["annotations", "validate", str(path), "--labels", str(ROOT / "configs/labels.yml"), "--corpus", repo_corpus.output]
    )
    assert result.exit_code == 1
    assert f"[{row['doc_id']}]: text differs from the corpus record" in result.output
    assert "[not-in-corpus]: document is not in the corpus" in result.output


def test_same_document_twice(tmp_path):
    result, path = run_validate(tmp_path, [GOOD, GOOD])
    assert result.exit_code == 1
    assert f"document also at {path}:1" in result.output


def test_gold_covers_every_label_and_relation_type(gold_records, scheme):
    labels = {e.label for r in gold_records for e in r.entities}
    types = {rel.type for r in gold_records for rel in r.relations}
    assert labels == set(scheme.entity_labels)
    assert types == set(scheme.relation_types)
    assert sum(len(r.entities) for r in gold_records) >= 300
    assert sum(len(r.relations) for r in gold_records) >= 100


# Snapshot directories, as agreement and adjudicate take them.


def test_a_snapshot_directory_is_validated_one_annotator_file_at_a_time(tmp_path):
    from annotator_fixtures import alice, bob, write_snapshot

    snapshot = write_snapshot(tmp_path, "round-1", {"alice": alice(), "bob": bob()})
    result = runner.invoke(app, ["annotations", "validate", str(snapshot), "--no-corpus"])
    # alice has 4 documents, bob 3; the 3 both have are no duplicates.
    assert result.exit_code == 0, result.output
    assert "ok: 7 documents, no problems" in result.output
    rows = bob()
    rows[0]["entities"][0]["label"] = "TITLE"
    broken = write_snapshot(tmp_path, "round-2", {"alice": alice(), "bob": rows})
    result = runner.invoke(app, ["annotations", "validate", str(broken), "--no-corpus"])
    assert result.exit_code == 1 and f"{broken / 'annotators' / 'bob.jsonl'}:1 [d1] 0-16: unknown entity label 'TITLE'" in result.output
    (snapshot / "annotators" / "alice.jsonl").write_text("", encoding="utf-8")
    changed = runner.invoke(app, ["annotations", "validate", str(snapshot), "--no-corpus"])
    assert changed.exit_code == 1 and "sha256 differs from manifest.json" in changed.output
    assert_no_traceback(changed)


# Plausibility warnings (--lint): never errors.

LINT_TEXT = "President Erdogan met officials of the region in Ankara. President Erdogan said Ankara would help."


def lint_rows() -> dict:
    def ent(number, label, surface, after=0):
        start = LINT_TEXT.index(surface, after)
        return {"id": number, "label": label, "start_offset": start, "end_offset": start + len(surface)}

    second = LINT_TEXT.index(". ") + 2
    alice = {"doc_id": "d1", "text": LINT_TEXT, "annotator": "alice", "relations": [], "entities": [
        ent(1, "ROLE", "President"), ent(2, "PERSON", "Erdogan"), ent(3, "LOC", "region"), ent(4, "GPE", "Ankara"),
    ]}
    bob = {"doc_id": "d1", "text": LINT_TEXT, "annotator": "bob", "relations": [], "entities": [
        ent(1, "ROLE", "President"), ent(2, "PERSON", "Erdogan"), ent(3, "GPE", "Ankara"),
        ent(4, "PERSON", "President Erdogan", second), ent(5, "ORG", "Ankara", second),
    ]}
    return {"alice": [alice], "bob": [bob]}


def test_lint_warns_per_annotator_and_never_fails(tmp_path):
    from annotator_fixtures import write_snapshot

    snapshot = write_snapshot(tmp_path, "round-1", lint_rows())
    result = runner.invoke(app, ["annotations", "validate", str(snapshot), "--no-corpus", "--lint"])
    assert result.exit_code == 0, result.output
    files = snapshot / "annotators"
    # Worked out by hand: "region" starts at 39 (10 + 8 + 4 + 10 + 3 + 4 characters before it); bob's second "President Erdogan" at 57-74 and second "Ankara" at 80-86.
    assert f"{files / 'alice.jsonl'}:1 [d1] 39-45: warning: LOC span 'region' starts lowercase (a name usually does not)" in result.output
    assert f"{files / 'bob.jsonl'}:1 [d1] 57-74: warning: PERSON span 'President Erdogan' contains 'President', which this file marks as ROLE" in result.output
    assert f"{files / 'bob.jsonl'}:1 [d1] 49-55: warning: 'Ankara' is labelled differently in this document: GPE at 49-55, ORG at 80-86" in result.output
    assert result.output.count("warning: ") == 3
    assert "warnings: alice 1, bob 2" in result.output and "ok: 2 documents, no problems" in result.output
    # Which labels are names is the user's: without LOC among them, "region" is no longer a warning.
    narrower = runner.invoke(app, ["annotations", "validate", str(snapshot), "--no-corpus", "--lint", "--name-label", "PERSON", "--name-label", "GPE"])
    assert narrower.exit_code == 0 and "'region'" not in narrower.output and "warnings: bob 2" in narrower.output
    plain = runner.invoke(app, ["annotations", "validate", str(snapshot), "--no-corpus"])
    assert plain.exit_code == 0 and "warning" not in plain.output
    unknown = runner.invoke(app, ["annotations", "validate", str(snapshot), "--no-corpus", "--lint", "--name-label", "PLACE"])
    assert unknown.exit_code == 1 and "not entity labels of the scheme 'diplomatic': PLACE" in unknown.output
    assert_no_traceback(unknown)


def test_the_gold_has_no_lint_warnings():
    result = runner.invoke(app, ["annotations", "validate", str(GOLD), "--no-corpus", "--lint"])
    assert result.exit_code == 0 and "warnings: none" in result.output, result.output
