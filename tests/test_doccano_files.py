"""The Doccano round trip's file side, without a server: safe unzip, export rows to records, snapshots, settings."""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from datetime import datetime, timezone

import pytest
from conftest import ROOT

from workbench.doccano.config import load_settings, public_url, resolve_credentials
from workbench.doccano.pull import (
    annotator_records,
    check_snapshot_name,
    parse_export_row,
    read_export_file,
    read_export,
    safe_extract,
    snapshot_name,
    write_snapshot,
)
from workbench.doccano.push import duplicate_examples, text_color_for, upload_row
from workbench.doccano.client import Example
from workbench.errors import WorkbenchError
from workbench.records import read_records

TEXT = "Greek Foreign Minister George Gerapetritis spoke with Fidan."


def export_row(example_id=7, doc_id="d1", entities=None, relations=None, **meta):
    return {
        "id": example_id,
        "text": TEXT,
        "doc_id": doc_id,
        "split": "train",
        **meta,
        "entities": entities if entities is not None else [
            {"id": 31, "label": "PERSON", "start_offset": 23, "end_offset": 42},
            {"id": 30, "label": "ROLE", "start_offset": 6, "end_offset": 22},
        ],
        "relations": relations if relations is not None else [{"id": 5, "from_id": 31, "to_id": 30, "type": "HAS_ROLE"}],
        "Comments": [],
    }


def make_zip(path, entries: dict[str, bytes], link: str | None = None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


# Safe extraction


def test_extracts_the_per_user_files(tmp_path):
    zip_path = make_zip(tmp_path / "e.zip", {"alice.jsonl": b'{"id": 1, "text": ""}\n', "bob.jsonl": b"\n"})
    files = safe_extract(zip_path, tmp_path / "out")
    assert sorted(p.name for p in files) == ["alice.jsonl", "bob.jsonl"]
    rows = read_export(zip_path, tmp_path / "again")
    assert list(rows) == ["alice", "bob"] and rows["bob"] == []
    assert [(r.example_id, r.doc_id, r.record.text) for r in rows["alice"]] == [(1, None, "")]


@pytest.mark.parametrize(
    "name",
    ["../evil.jsonl", "/tmp/evil.jsonl", "sub/alice.jsonl", "..\\evil.jsonl", "notes.txt", "sub/"],
)
def test_entries_that_could_leave_the_target_are_refused(tmp_path, name):
    zip_path = make_zip(tmp_path / "e.zip", {name: b"x"})
    with pytest.raises(WorkbenchError, match="unexpected entry"):
        safe_extract(zip_path, tmp_path / "out")
    assert not (tmp_path / "evil.jsonl").exists()
    assert not any((tmp_path / "out").rglob("*"))


def test_symlink_entries_are_refused(tmp_path):
    zip_path = make_zip(tmp_path / "e.zip", {}, link="alice.jsonl")
    with pytest.raises(WorkbenchError, match="unexpected entry"):
        safe_extract(zip_path, tmp_path / "out")


def test_size_limit_counts_the_unpacked_bytes(tmp_path):
    # 2 MB of zeros packs into a few kB: a small zip must not unpack past the limit.
    zip_path = make_zip(tmp_path / "bomb.zip", {"alice.jsonl": b"0" * 2_000_000})
    assert zip_path.stat().st_size < 100_000
    with pytest.raises(WorkbenchError, match="more than 1000000 bytes"):
        safe_extract(zip_path, tmp_path / "out", max_bytes=1_000_000)


def test_too_many_entries_and_broken_zips_are_refused(tmp_path):
    zip_path = make_zip(tmp_path / "many.zip", {f"u{i}.jsonl": b"" for i in range(5)})
    with pytest.raises(WorkbenchError, match="more than the limit of 3"):
        safe_extract(zip_path, tmp_path / "out", max_files=3)
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(WorkbenchError, match="not a readable zip"):
        safe_extract(tmp_path / "broken.zip", tmp_path / "out2")


# Export rows -> canonical records (doc-id mapping)


def export_row_to_record(row: dict, annotator: str, confirmed: bool):
    parsed = parse_export_row(row)
    return parsed.as_record(annotator, confirmed) if parsed.doc_id else None


def test_export_row_maps_to_our_doc_id_with_its_annotator():
    record = export_row_to_record(export_row(), "alice", True)
    assert record.doc_id == "d1" and record.text == TEXT
    assert [(e.id, e.label, e.start, e.end) for e in record.entities] == [(30, "ROLE", 6, 22), (31, "PERSON", 23, 42)]
    assert [(r.head, r.tail, r.type) for r in record.relations] == [(31, 30, "HAS_ROLE")]
    out = record.to_dict()
    assert out["annotator"] == "alice" and out["confirmed"] is True
    assert out["doccano_id"] == 7 and out["split"] == "train"
    assert "Comments" not in out and "id" not in out


def test_rows_without_doc_id_are_not_mapped():
    assert export_row_to_record({**export_row(), "doc_id": None}, "alice", True) is None
    row = export_row()
    del row["doc_id"]
    assert export_row_to_record(row, "alice", True) is None


def test_comments_are_kept():
    row = {**export_row(), "Comments": [{"id": 1, "comment": "unsure about the role"}]}
    assert export_row_to_record(row, "bob", False).meta["comments"] == ["unsure about the role"]


@pytest.mark.parametrize(
    "line, message",
    [
        # Each bad row is the valid one with one thing broken; the message names file (as in the export) and line 2.
        (lambda row: {k: v for k, v in row.items() if k != "id"}, "alice.jsonl:2: 'id' (Doccano's example id) must be an integer, got None"),
        (lambda row: {**row, "id": "7"}, "alice.jsonl:2: 'id' (Doccano's example id) must be an integer, got '7'"),
        (lambda row: {**row, "entities": [{"id": 1, "label": "PERSON", "start_offset": 0}]}, "alice.jsonl:2 [d1]: entities[0] lacks end_offset"),
        (lambda row: {**row, "relations": [{"id": 5, "to_id": 30, "type": "HAS_ROLE"}]}, "alice.jsonl:2 [d1]: relations[0] lacks from_id"),
        (lambda row: {**row, "text": None}, "alice.jsonl:2 [d1]: 'text' must be a string"),
        (lambda row: {**row, "Comments": "x"}, "alice.jsonl:2 [d1]: 'Comments' must be a list"),
        (lambda row: [row], "alice.jsonl:2: expected a JSON object, got list"),
    ],
)
def test_malformed_export_rows_are_one_line_errors_naming_file_and_line(tmp_path, line, message):
    path = tmp_path / "alice.jsonl"
    path.write_text(json.dumps(export_row(6, "d0")) + "\n" + json.dumps(line(export_row())) + "\n", encoding="utf-8")
    with pytest.raises(WorkbenchError) as caught:
        read_export_file(path)
    assert str(caught.value) == message + " in Doccano's export"


def test_export_that_is_not_json_names_file_and_line(tmp_path):
    path = tmp_path / "bob.jsonl"
    path.write_text(json.dumps(export_row()) + "\n\n{oops\n", encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"^bob.jsonl:3: not valid JSON: .* in Doccano's export$"):
        read_export_file(path)


def parsed(rows: dict[str, list[dict]]) -> dict:
    return {user: [parse_export_row(row) for row in user_rows] for user, user_rows in rows.items()}


def test_confirmed_only_keeps_each_members_confirmed_examples_sorted_by_doc_id():
    confirmed = {"alice": [export_row(9, "d2"), export_row(7, "d1")], "admin": []}
    records, unmapped = annotator_records(parsed(confirmed), None)
    assert list(records) == ["alice"]
    assert [r.doc_id for r in records["alice"]] == ["d1", "d2"]
    assert all(r.meta["confirmed"] for r in records["alice"]) and unmapped == 0


def test_unconfirmed_adds_labelled_examples_and_marks_them():
    confirmed = {"alice": [export_row(7, "d1")], "bob": []}
    everything = {
        "alice": [export_row(7, "d1"), export_row(9, "d2"), export_row(11, "d3", entities=[], relations=[])],
        "bob": [export_row(7, "d1", entities=[], relations=[]), export_row(12, None)],
    }
    records, unmapped = annotator_records(parsed(confirmed), parsed(everything))
    assert {r.doc_id: r.meta["confirmed"] for r in records["alice"]} == {"d1": True, "d2": False}
    assert "bob" not in records and unmapped == 1


# Snapshots


def snapshot_records():
    confirmed = {"alice": [export_row(7, "d1")], "bob": [export_row(7, "d1", relations=[])]}
    return annotator_records(parsed(confirmed), None)[0]


BASE = {"project": "p", "project_id": 3, "server": "http://127.0.0.1:8000", "created": "2026-01-01T00:00:00Z", "confirmed_only": True}


def test_snapshot_manifest_hashes_every_file(tmp_path, scheme):
    final = tmp_path / "snapshots" / "s1"
    result = write_snapshot(final, BASE, snapshot_records(), scheme)
    assert result.path == final and result.problems == []
    manifest = json.loads((final / "manifest.json").read_text())
    assert manifest == result.manifest
    assert list(manifest) == [
        "project", "project_id", "server", "created", "annotators", "confirmed_only", "counts", "files", "workbench_version"
    ]
    assert manifest["annotators"] == ["alice", "bob"]
    assert manifest["counts"] == {
        "alice": {"documents": 1, "entities": 2, "relations": 1},
        "bob": {"documents": 1, "entities": 2, "relations": 0},
    }
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((final / rel).read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in (final / "annotators").iterdir()) == ["alice.jsonl", "bob.jsonl"]
    assert [r.doc_id for r in read_records(final / "annotators" / "alice.jsonl")] == ["d1"]
    assert [p.name for p in final.parent.iterdir()] == ["s1"]


def test_existing_snapshot_is_never_overwritten(tmp_path, scheme):
    final = tmp_path / "s1"
    write_snapshot(final, BASE, snapshot_records(), scheme)
    before = {p: p.read_bytes() for p in final.rglob("*") if p.is_file()}
    with pytest.raises(WorkbenchError, match="never overwritten"):
        write_snapshot(final, {**BASE, "project": "other"}, snapshot_records(), scheme)
    assert {p: p.read_bytes() for p in final.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["s1"]


def test_invalid_annotations_publish_nothing_unless_allowed(tmp_path, scheme):
    bad = {"alice": [export_row_to_record(export_row(relations=[{"id": 1, "from_id": 30, "to_id": 31, "type": "HAS_ROLE"}]), "alice", True)]}
    result = write_snapshot(tmp_path / "s1", BASE, bad, scheme)
    assert result.path is None and not (tmp_path / "s1").exists() and list(tmp_path.iterdir()) == []
    assert "annotators/alice.jsonl:1 [d1]" in str(result.problems[0]) and "does not allow ROLE -> PERSON" in str(result.problems[0])
    allowed = write_snapshot(tmp_path / "s1", BASE, bad, scheme, allow_invalid=True)
    assert allowed.path.exists() and allowed.problems


def test_snapshot_names():
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    assert snapshot_name("Diplomatic contacts!", when) == "diplomatic-contacts-20260304T050607Z"
    assert check_snapshot_name("round-1.v2") == "round-1.v2"
    for bad in ("../x", ".hidden", "a/b", ""):
        with pytest.raises(WorkbenchError):
            check_snapshot_name(bad)


# Push helpers and settings


def test_upload_row_renumbers_pre_annotation_ids(gold_records):
    gold = gold_records[4]
    row = upload_row((gold.doc_id, gold.text, {"split": "dev"}), gold)
    assert row["doc_id"] == gold.doc_id and row["split"] == "dev" and len(row["sha256"]) == 64
    ids = [e["id"] for e in row["entities"]]
    assert ids == list(range(1, len(ids) + 1))
    assert {(r["from_id"], r["to_id"]) for r in row["relations"]} <= {(a, b) for a in ids for b in ids}
    assert len(row["relations"]) == len(gold.relations)
    with pytest.raises(WorkbenchError, match="differs"):
        upload_row((gold.doc_id, gold.text + " ", {}), gold)


def test_duplicates_keep_the_oldest_example():
    examples = [Example(5, "a"), Example(2, "a"), Example(9, "a"), Example(3, "b"), Example(4, None), Example(6, None)]
    assert duplicate_examples(examples) == [5, 9]


def test_label_text_colour_is_readable():
    assert text_color_for("#ffe08a") == "#000000"
    assert text_color_for("#3a86ff") == "#ffffff"


def test_public_url_drops_credentials():
    assert public_url("http://alice:secret@example.org:8080/doccano/?token=x#y") == "http://example.org:8080/doccano"


def test_credentials_from_environment_and_local_password_file(monkeypatch):
    for name in ("DOCCANO_URL", "DOCCANO_USERNAME", "DOCCANO_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(WorkbenchError, match="set DOCCANO_URL"):
        resolve_credentials()
    local = resolve_credentials("http://127.0.0.1:8000", lambda: "generated")
    assert (local.username, local.password) == ("admin", "generated")
    assert "generated" not in repr(local)
    # The local password never goes to another server.
    monkeypatch.setenv("DOCCANO_URL", "https://doccano.example.org")
    with pytest.raises(WorkbenchError, match="set DOCCANO_PASSWORD"):
        resolve_credentials("http://127.0.0.1:8000", lambda: "generated")
    monkeypatch.setenv("DOCCANO_USERNAME", "carol")
    monkeypatch.setenv("DOCCANO_PASSWORD", "pw")
    remote = resolve_credentials("http://127.0.0.1:8000", lambda: "generated")
    assert (remote.url, remote.username, remote.password) == ("https://doccano.example.org", "carol", "pw")


def test_repository_settings_load():
    settings = load_settings(ROOT / "configs" / "doccano.yml")
    assert settings.project and settings.server.port == 8000 and settings.batch_size > 0
    assert "doccano==1.8.4" in (ROOT / settings.server.constraints).read_text().splitlines()
