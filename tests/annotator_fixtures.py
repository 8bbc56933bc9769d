"""Two hand-made annotators with known disagreements, and snapshot directories written from them.

d1: alice marks "Hakan Fidan", bob only "Fidan" (overlap, not exact); alice has
    a DATE bob lacks; alice's HAS_ROLE and MET and bob's MET point at the Fidan
    span the other annotator lacks.
d2: the same entities; SPOKE_WITH in opposite directions (symmetric: agrees);
    bob has an extra MET between spans alice has too.
d3: bob did not confirm it. d4: bob does not have it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

T1 = "Foreign Minister Hakan Fidan met Tom Barrack in Ankara on Tuesday."
T2 = "Fidan spoke with Gerapetritis by phone."
T3 = "Qatar hosted talks in Doha."
T4 = "Albares visited Rome."


def ent(number: int, text: str, surface: str, label: str, after: int = 0) -> dict:
    """An entity on the first `surface` in `text` from character `after` on."""
    start = text.index(surface, after)
    return {"id": number, "label": label, "start_offset": start, "end_offset": start + len(surface)}


def rel(number: int, head: int, tail: int, rel_type: str) -> dict:
    return {"id": number, "from_id": head, "to_id": tail, "type": rel_type}


def record(doc_id: str, text: str, annotator: str, entities: list, relations: list = (), confirmed: bool = True) -> dict:
    return {
        "doc_id": doc_id,
        "text": text,
        "entities": list(entities),
        "relations": list(relations),
        "annotator": annotator,
        "confirmed": confirmed,
        "source": "fixture",
    }


def alice() -> list[dict]:
    return [
        record(
            "d1",
            T1,
            "alice",
            [ent(1, T1, "Foreign Minister", "ROLE"), ent(2, T1, "Hakan Fidan", "PERSON"), ent(3, T1, "Tom Barrack", "PERSON"), ent(4, T1, "Ankara", "GPE"), ent(5, T1, "Tuesday", "DATE")],
            [rel(1, 2, 1, "HAS_ROLE"), rel(2, 2, 3, "MET")],
        ),
        record("d2", T2, "alice", [ent(1, T2, "Fidan", "PERSON"), ent(2, T2, "Gerapetritis", "PERSON")], [rel(1, 1, 2, "SPOKE_WITH")]),
        record("d3", T3, "alice", [ent(1, T3, "Qatar", "GPE"), ent(2, T3, "Doha", "GPE")]),
        record("d4", T4, "alice", [ent(1, T4, "Albares", "PERSON"), ent(2, T4, "Rome", "GPE")]),
    ]


def bob() -> list[dict]:
    return [
        record(
            "d1",
            T1,
            "bob",
            [ent(1, T1, "Foreign Minister", "ROLE"), ent(2, T1, "Fidan", "PERSON"), ent(3, T1, "Tom Barrack", "PERSON"), ent(4, T1, "Ankara", "GPE")],
            [rel(1, 3, 2, "MET")],
        ),
        record(
            "d2",
            T2,
            "bob",
            [ent(1, T2, "Fidan", "PERSON"), ent(2, T2, "Gerapetritis", "PERSON")],
            [rel(1, 2, 1, "SPOKE_WITH"), rel(2, 1, 2, "MET")],
        ),
        # Unconfirmed, and different from alice's: counting it would change every figure.
        record("d3", T3, "bob", [ent(1, T3, "Qatar", "ORG")], confirmed=False),
    ]


def renamed(rows: list[dict], annotator: str) -> list[dict]:
    """The same annotations under another annotator's name."""
    rows = copy.deepcopy(rows)
    for row in rows:
        row["annotator"] = annotator
    return rows


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def write_snapshot(root: Path, name: str, annotators: dict[str, list[dict]]) -> Path:
    """A snapshot directory as the Doccano pull writes it: manifest.json and annotators/<name>.jsonl."""
    directory = root / name
    files = {}
    for annotator, rows in sorted(annotators.items()):
        path = write_rows(directory / "annotators" / f"{annotator}.jsonl", rows)
        files[f"annotators/{annotator}.jsonl"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {
        "project": "fixture",
        "project_id": 1,
        "server": "http://localhost:8000",
        "created": "2025-01-01T00:00:00Z",
        "annotators": sorted(annotators),
        "confirmed_only": False,
        "counts": {a: {"documents": len(rows), "entities": 0, "relations": 0} for a, rows in annotators.items()},
        "files": files,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return directory


def snapshot_missing(root: Path, annotator: str) -> Path:
    """The alice-and-bob snapshot with one annotator's file gone after the pull."""
    directory = write_snapshot(root, "round-1", {"alice": alice(), "bob": bob()})
    (directory / "annotators" / f"{annotator}.jsonl").unlink()
    return directory


def assert_clean_failure(result, message: str) -> None:
    """Exit 1 with a one-line error, not a traceback."""
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
