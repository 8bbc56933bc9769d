"""Pull annotations from Doccano into an immutable snapshot directory, one canonical file per annotator.

How Doccano 1.8.4 gives them: in a project that does not share annotations, the
JSONL relation export is a zip with one `<username>.jsonl` per project member,
holding that member's own spans and relations. With "confirmed only" a member's
file has just the examples that member confirmed; without it, every example. So
the confirmed flag of each record comes from the confirmed-only export, and
`--include-unconfirmed` adds a second, full export for the rest.

Snapshot layout (annotations/snapshots/<name>/), written into a staging directory
beside it and renamed into place only when complete; an existing one is never
touched:

    manifest.json              project, project_id, server, created, annotators,
                               confirmed_only, counts, files (sha256), workbench_version
    annotators/<user>.jsonl    canonical records sorted by doc_id, each with
                               "annotator" and "confirmed"
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from tqdm import tqdm

import workbench
from workbench.annotations.validate import Problem, validate_files
from workbench.doccano.client import DoccanoSession
from workbench.doccano.config import public_url
from workbench.errors import WorkbenchError
from workbench.fileio import staging_dir, write_json
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc, Entity, Relation, write_records

MAX_BYTES = 1 << 30
MAX_FILES = 10_000
ANNOTATORS_DIR = "annotators"
_MEMBER_FILE = re.compile(r"[\w.@+-]+\.jsonl")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Export columns that are Doccano's own, not metadata we uploaded.
_DOCCANO_KEYS = ("id", "text", "entities", "relations", "Comments")


@dataclass(frozen=True)
class PullResult:
    path: Path | None
    manifest: dict | None
    problems: list[Problem]
    unmapped: int


# Safe extraction


def safe_extract(zip_path: Path, target: Path, max_bytes: int = MAX_BYTES, max_files: int = MAX_FILES) -> list[Path]:
    """Extract the export's `<username>.jsonl` files into target; anything else is refused.

    No entry may leave target (absolute names, `..`, links, folders), and the bytes
    actually written, not the sizes the zip claims, count towards max_bytes.
    """
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    written: list[Path] = []
    total = 0
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise WorkbenchError(f"the export is not a readable zip: {exc}", path=zip_path) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > max_files:
            raise WorkbenchError(f"the export has {len(entries)} entries, more than the limit of {max_files}", path=zip_path)
        for info in entries:
            dest = _entry_path(info, root, zip_path)
            if dest.exists():
                raise WorkbenchError(f"entry {info.filename!r} is twice in the export", path=zip_path)
            with archive.open(info) as src, open(dest, "xb") as out:
                while chunk := src.read(1 << 16):
                    total += len(chunk)
                    if total > max_bytes:
                        raise WorkbenchError(f"the export unpacks to more than {max_bytes} bytes; raise --max-bytes", path=zip_path)
                    out.write(chunk)
            written.append(dest)
    return written


def _entry_path(info: zipfile.ZipInfo, root: Path, zip_path: Path) -> Path:
    name = info.filename
    mode = info.external_attr >> 16
    bad = (
        info.is_dir()
        or stat.S_ISLNK(mode)
        or "\\" in name
        or PurePosixPath(name).is_absolute()
        or len(PurePosixPath(name).parts) != 1
        or not _MEMBER_FILE.fullmatch(name)
    )
    dest = (root / name).resolve()
    if bad or dest.parent != root:
        raise WorkbenchError(f"unexpected entry {name!r} in the export: only <username>.jsonl files are accepted", path=zip_path)
    return dest


# Export rows -> canonical records


def read_export_file(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise WorkbenchError(f"not valid JSON in the export: {exc.msg}", path=path.name, line=number) from None
    return rows


def read_export(zip_path: Path, work_dir: Path, max_bytes: int = MAX_BYTES) -> dict[str, list[dict]]:
    """username -> export rows, from one export zip."""
    return {p.name[: -len(".jsonl")]: read_export_file(p) for p in safe_extract(zip_path, work_dir, max_bytes)}


def export_row_to_record(row: dict, annotator: str, confirmed: bool) -> AnnotatedDoc | None:
    """An export row as our record (doc_id from the example's metadata); None if the example has no doc_id."""
    doc_id = row.get("doc_id")
    if not isinstance(doc_id, str) or not doc_id:
        return None
    entities = sorted(
        (Entity(e["id"], e["label"], e["start_offset"], e["end_offset"]) for e in row.get("entities") or []),
        key=lambda e: (e.start, e.end, e.label, e.id),
    )
    relations = sorted(
        (Relation(r["id"], r["from_id"], r["to_id"], r["type"]) for r in row.get("relations") or []), key=lambda r: r.id
    )
    meta = {"annotator": annotator, "confirmed": confirmed, "doccano_id": row.get("id")}
    meta.update((k, v) for k, v in row.items() if k not in _DOCCANO_KEYS and k != "doc_id")
    comments = [c.get("comment") for c in row.get("Comments") or [] if isinstance(c, dict)]
    if comments:
        meta["comments"] = comments
    return AnnotatedDoc(doc_id, row.get("text") or "", entities, relations, meta)


def annotator_records(
    confirmed: dict[str, list[dict]], everything: dict[str, list[dict]] | None
) -> tuple[dict[str, list[AnnotatedDoc]], int]:
    """Per annotator, their records sorted by doc_id; and how many examples had no doc_id.

    Without `everything` (confirmed only), each member's confirmed examples. With it,
    also the examples a member labelled but did not confirm; members with nothing are left out.
    """
    out: dict[str, list[AnnotatedDoc]] = {}
    unmapped = 0
    for user in sorted(set(confirmed) | set(everything or {})):
        confirmed_ids = {row["id"] for row in confirmed.get(user, [])}
        rows = confirmed.get(user, []) if everything is None else everything.get(user, [])
        records = []
        for row in rows:
            is_confirmed = row["id"] in confirmed_ids
            if not is_confirmed and not (row.get("entities") or row.get("relations")):
                continue
            record = export_row_to_record(row, user, is_confirmed)
            if record is None:
                unmapped += 1
                continue
            records.append(record)
        if records:
            out[user] = sorted(records, key=lambda r: r.doc_id)
    return out, unmapped


# Snapshot


def snapshot_name(project: str, now: datetime) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", project.lower()).strip("-") or "project"
    return f"{slug}-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def check_snapshot_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise WorkbenchError(f"snapshot name {name!r} must be letters, digits, '.', '_' or '-', not starting with '.', '_' or '-'")
    return name


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_manifest(root: Path, base: dict, records: dict[str, list[AnnotatedDoc]]) -> dict:
    """The manifest for the annotator files already written under root."""
    counts = {
        user: {"documents": len(docs), "entities": sum(len(d.entities) for d in docs), "relations": sum(len(d.relations) for d in docs)}
        for user, docs in sorted(records.items())
    }
    files = {f"{ANNOTATORS_DIR}/{user}.jsonl": sha256_file(root / ANNOTATORS_DIR / f"{user}.jsonl") for user in sorted(records)}
    return {
        "project": base["project"],
        "project_id": base["project_id"],
        "server": base["server"],
        "created": base["created"],
        "annotators": sorted(records),
        "confirmed_only": base["confirmed_only"],
        "counts": counts,
        "files": files,
        "workbench_version": workbench.__version__,
    }


def write_snapshot(
    final: Path,
    base: dict,
    records: dict[str, list[AnnotatedDoc]],
    scheme: LabelScheme,
    corpus: dict[str, dict] | None = None,
    allow_invalid: bool = False,
) -> PullResult:
    """Write, validate and publish the snapshot; with validation problems (unless allowed) nothing is published."""
    if final.exists():
        raise WorkbenchError("snapshot exists already; snapshots are never overwritten, choose another --name", path=final)
    staging = staging_dir(final)
    try:
        for user, docs in records.items():
            write_records(staging / ANNOTATORS_DIR / f"{user}.jsonl", docs)
        problems = []
        for user in sorted(records):
            # One file at a time: every annotator has the same documents, which is no duplicate.
            found, _ = validate_files([staging / ANNOTATORS_DIR / f"{user}.jsonl"], scheme, corpus)
            problems += [replace(p, path=f"{ANNOTATORS_DIR}/{user}.jsonl") for p in found]
        if problems and not allow_invalid:
            return PullResult(None, None, problems, 0)
        manifest = build_manifest(staging, base, records)
        write_json(staging / "manifest.json", manifest)
        publish_dir(staging, final)
        return PullResult(final, manifest, problems, 0)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish_dir(staging: Path, final: Path) -> None:
    """Rename a complete directory into place; never over an existing one."""
    if final.exists():
        raise WorkbenchError("snapshot exists already; snapshots are never overwritten, choose another --name", path=final)
    os.rename(staging, final)


def pull(
    session: DoccanoSession,
    project_name: str,
    snapshots: Path,
    scheme: LabelScheme,
    name: str | None = None,
    include_unconfirmed: bool = False,
    corpus: dict[str, dict] | None = None,
    allow_invalid: bool = False,
    max_bytes: int = MAX_BYTES,
) -> PullResult:
    project = session.find_project(project_name)
    if project is None:
        raise WorkbenchError(f"Doccano at {session.url} has no project {project_name!r}; run `workbench doccano push` first")
    now = datetime.now(timezone.utc)
    final = Path(snapshots) / check_snapshot_name(name or snapshot_name(project.name, now))
    if final.exists():
        raise WorkbenchError("snapshot exists already; snapshots are never overwritten, choose another --name", path=final)
    exports = (True, False) if include_unconfirmed else (True,)
    with tempfile.TemporaryDirectory(prefix="workbench-pull-") as tmp:
        found = {}
        for confirmed_only in tqdm(exports, desc="export", unit="export", disable=len(exports) < 2):
            kind = "confirmed" if confirmed_only else "all"
            zip_path = session.export(project.id, confirmed_only, Path(tmp) / f"{kind}.zip", max_bytes)
            found[kind] = read_export(zip_path, Path(tmp) / kind, max_bytes)
        records, unmapped = annotator_records(found["confirmed"], found.get("all"))
    if not records:
        more = "" if include_unconfirmed else " (--include-unconfirmed takes unconfirmed work too)"
        raise WorkbenchError(f"nothing to snapshot: no annotator of {project.name!r} has confirmed an example yet{more}")
    base = {
        "project": project.name,
        "project_id": project.id,
        "server": public_url(session.url),
        "created": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "confirmed_only": not include_unconfirmed,
    }
    result = write_snapshot(final, base, records, scheme, corpus, allow_invalid)
    return replace(result, unmapped=unmapped)
