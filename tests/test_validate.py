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
    assert "cannot read file" in result.output


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
