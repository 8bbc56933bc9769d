"""Read every annotator's version of the documents: pulled snapshot folders and plain canonical files.

What is accepted, and how a snapshot folder is checked, is workbench.annotation_files'.
Snapshot records are canonical records with two more keys, `"annotator"` and
`"confirmed"`. In plain files a record's annotator is its `"annotator"` key, else the
file's stem; a record without `"confirmed"` counts as confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench.annotation_files import MANIFEST, annotation_files
from workbench.errors import WorkbenchError
from workbench.fileio import sha256_of_files
from workbench.records import AnnotatedDoc, iter_records

# Keys that say who annotated a record and how far; they do not travel into gold.
ANNOTATOR_KEYS = ("annotator", "confirmed")

CONFIRMED, UNCONFIRMED, MISSING = "confirmed", "unconfirmed", "missing"


@dataclass
class Snapshot:
    """Each annotator's records by doc_id, and where they came from."""

    # The snapshot's name (one snapshot folder given), or the list of paths given.
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
    """Snapshot folders and plain canonical JSONL files (annotation_files), every annotator's records.

    One snapshot folder alone is named by the folder and carries its manifest's sha256;
    anything else is named by the list of paths given.
    """
    paths = [Path(p) for p in paths]
    files = annotation_files(paths)
    if len(paths) == 1 and paths[0].is_dir():
        snapshot = Snapshot(paths[0].name, sha256_of_files([paths[0] / MANIFEST]), {})
    else:
        snapshot = Snapshot([str(p) for p in paths], None, {})
    # A snapshot's annotator with no document is still one of its annotators.
    snapshot.docs.update({f.annotator: {} for f in files if f.annotator is not None})
    for file in files:
        _add_file(snapshot, file.path, file.annotator)
    return snapshot


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
