"""Read every annotator's version of the documents: a pulled snapshot directory or plain canonical files.

A snapshot is `annotations/snapshots/<name>/` with `manifest.json` (annotators,
and the sha256 of every file it lists) and one `annotators/<username>.jsonl` per
annotator. Its records are canonical records with two more keys, `"annotator"`
and `"confirmed"`. Plain files work too: a record's annotator is its
`"annotator"` key, else the file's stem; a record without `"confirmed"` counts
as confirmed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.fileio import sha256_of_files
from workbench.records import AnnotatedDoc, iter_records

MANIFEST = "manifest.json"
ANNOTATOR_DIR = "annotators"
# Keys that say who annotated a record and how far; they do not travel into gold.
ANNOTATOR_KEYS = ("annotator", "confirmed")

CONFIRMED, UNCONFIRMED, MISSING = "confirmed", "unconfirmed", "missing"


@dataclass
class Snapshot:
    """Each annotator's records by doc_id, and where they came from."""

    # The snapshot's name, or the list of plain files.
    source: str | list[str]
    manifest_sha256: str | None
    docs: dict[str, dict[str, AnnotatedDoc]]
    # (annotator, doc_id) -> (file, line), for messages that point at the record.
    locations: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)

    @property
    def annotators(self) -> list[str]:
        return sorted(self.docs)

    def doc_ids(self) -> list[str]:
        return sorted({doc_id for docs in self.docs.values() for doc_id in docs})

    def status(self, annotator: str, doc_id: str) -> str:
        record = self.docs[annotator].get(doc_id)
        if record is None:
            return MISSING
        return CONFIRMED if record.meta.get("confirmed", True) else UNCONFIRMED

    def confirmed_by(self, doc_id: str) -> list[str]:
        return [name for name in self.annotators if self.status(name, doc_id) == CONFIRMED]

    def error(self, message: str, annotator: str, doc_id: str) -> WorkbenchError:
        path, line = self.locations.get((annotator, doc_id), (None, None))
        return WorkbenchError(message, path=path, line=line, doc_id=doc_id)

    def provenance(self) -> dict:
        return {"snapshot": self.source, "manifest_sha256": self.manifest_sha256}


def load_sources(paths: list[str | Path]) -> Snapshot:
    """One snapshot directory, or one or more plain canonical JSONL files."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise WorkbenchError("give a snapshot directory or annotation files")
    if any(p.is_dir() for p in paths):
        if len(paths) > 1:
            raise WorkbenchError("give one snapshot directory, or annotation files, not both or several")
        return load_snapshot(paths[0])
    return load_files(paths)


def load_snapshot(directory: str | Path) -> Snapshot:
    """Read a pulled snapshot; every file must match the sha256 its manifest records."""
    directory = Path(directory)
    manifest = checked_manifest(directory)
    manifest_path = directory / MANIFEST
    snapshot = Snapshot(directory.name, sha256_of_files([manifest_path]), {name: {} for name in manifest["annotators"]})
    for name, path in zip(manifest["annotators"], annotator_paths(directory, manifest)):
        _add_file(snapshot, path, name)
    return snapshot


def snapshot_files(directory: str | Path) -> list[Path]:
    """The annotator files of a pulled snapshot, in the manifest's order, after checking them against the manifest."""
    directory = Path(directory)
    return annotator_paths(directory, checked_manifest(directory))


def checked_manifest(directory: Path) -> dict:
    """The snapshot's manifest, once every file it lists matches its sha256 and no annotator file is unlisted."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise WorkbenchError(f"not a snapshot: no {MANIFEST}", path=directory)
    manifest = _read_manifest(manifest_path)
    _verify_files(directory, manifest["files"])
    return manifest


def annotator_paths(directory: Path, manifest: dict) -> list[Path]:
    paths = []
    for name in manifest["annotators"]:
        relpath = f"{ANNOTATOR_DIR}/{name}.jsonl"
        if relpath not in manifest["files"]:
            raise WorkbenchError(f"annotator {name!r} has no {relpath} in the manifest", path=directory / MANIFEST)
        paths.append(directory / relpath)
    return paths


def load_files(paths: list[Path]) -> Snapshot:
    snapshot = Snapshot([str(p) for p in paths], None, {})
    for path in paths:
        _add_file(snapshot, path, None)
    return snapshot


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkbenchError(f"cannot read the manifest: {exc}", path=path) from None
    if not isinstance(manifest, dict):
        raise WorkbenchError("the manifest must be a JSON object", path=path)
    annotators = manifest.get("annotators")
    if not isinstance(annotators, list) or not all(isinstance(a, str) and a for a in annotators):
        raise WorkbenchError("'annotators' must be a list of usernames", path=path)
    if not isinstance(manifest.get("files"), dict):
        raise WorkbenchError("'files' must map each file to its sha256", path=path)
    return manifest


def _verify_files(directory: Path, files: dict[str, str]) -> None:
    for relpath, expected in sorted(files.items()):
        path = directory / relpath
        if not path.is_file():
            raise WorkbenchError(f"{relpath} is listed in {MANIFEST} but missing", path=directory)
        if sha256_of_files([path]) != expected:
            raise WorkbenchError(f"sha256 differs from {MANIFEST}: the file changed after the pull", path=path)
    on_disk = sorted(p.relative_to(directory).as_posix() for p in (directory / ANNOTATOR_DIR).glob("*.jsonl"))
    unlisted = [relpath for relpath in on_disk if relpath not in files]
    if unlisted:
        raise WorkbenchError(f"{', '.join(unlisted)} not listed in {MANIFEST}", path=directory)


def _add_file(snapshot: Snapshot, path: Path, annotator: str | None) -> None:
    """Add a file's records; `annotator` is the one every record must name (snapshots) or None (plain files)."""
    for number, record in iter_records(path):
        where = {"path": path, "line": number, "doc_id": record.doc_id}
        name = record.meta.get("annotator", annotator or path.stem)
        if not isinstance(name, str) or not name:
            raise WorkbenchError("'annotator' must be a non-empty string", **where)
        if annotator is not None and name != annotator:
            raise WorkbenchError(f"record of annotator {name!r} in the file of {annotator!r}", **where)
        if not isinstance(record.meta.get("confirmed", True), bool):
            raise WorkbenchError("'confirmed' must be true or false", **where)
        _check_structure(record, where)
        docs = snapshot.docs.setdefault(name, {})
        if record.doc_id in docs:
            first, first_line = snapshot.locations[(name, record.doc_id)]
            raise WorkbenchError(f"annotator {name!r} has this document twice (also {first}:{first_line})", **where)
        _check_same_text(snapshot, record, where)
        docs[record.doc_id] = record
        snapshot.locations[(name, record.doc_id)] = (str(path), number)


def _check_structure(record: AnnotatedDoc, where: dict) -> None:
    """What every comparison relies on: spans inside the text, relations between existing spans."""
    for ent in record.entities:
        if not 0 <= ent.start < ent.end <= len(record.text):
            raise WorkbenchError(f"entity {ent.id!r} at {ent.start}-{ent.end} is empty or outside the text", **where)
    ids = record.entity_by_id()
    for rel in record.relations:
        if rel.head not in ids or rel.tail not in ids:
            raise WorkbenchError(f"relation {rel.id!r} points at a missing entity", **where)


def _check_same_text(snapshot: Snapshot, record: AnnotatedDoc, where: dict) -> None:
    # Offsets of different annotators are only comparable on the same text.
    for name, docs in snapshot.docs.items():
        other = docs.get(record.doc_id)
        if other is not None and other.text != record.text:
            raise WorkbenchError(f"text differs from annotator {name!r}'s version of this document", **where)
