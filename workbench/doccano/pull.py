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
from workbench.annotation_files import ANNOTATOR_DIR, MANIFEST
from workbench.annotations.validate import Problem, validate_files
from workbench.corpus.store import Corpus
from workbench.doccano.client import DoccanoSession
from workbench.doccano.config import public_url
from workbench.errors import WorkbenchError
from workbench.fileio import remove_stale, sha256_of_files, staging_dir, write_json
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc, iter_json_lines, record_from_dict, write_records

MAX_BYTES = 1 << 30
MAX_FILES = 10_000
_MEMBER_FILE = re.compile(r"[\w.@+-]+\.jsonl")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


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


@dataclass(frozen=True)
class ExportRow:
    """One example in one member's export file, parsed through the record parser.

    `record` holds that member's spans and relations on the example and the
    metadata we uploaded (plus Doccano's example id and the comments); its doc_id
    is a stand-in when the example has none, so `doc_id` says whether it has one.
    """

    example_id: int
    doc_id: str | None
    record: AnnotatedDoc

    @property
    def labelled(self) -> bool:
        return bool(self.record.entities or self.record.relations)

    def as_record(self, annotator: str, confirmed: bool) -> AnnotatedDoc:
        """The record as a snapshot stores it: whose it is and whether they confirmed it, spans in text order."""
        record = self.record
        # Ids may be integers (Doccano's) or strings (the record format allows both): never compare one with the other.
        entities = sorted(record.entities, key=lambda e: (e.start, e.end, e.label, isinstance(e.id, str), e.id))
        relations = sorted(record.relations, key=lambda r: (isinstance(r.id, str), r.id))
        meta = {"annotator": annotator, "confirmed": confirmed, **record.meta}
        return AnnotatedDoc(record.doc_id, record.text, entities, relations, meta)


def parse_export_row(obj: object) -> ExportRow:
    """One export row; a wrong shape or type raises WorkbenchError (no location: the caller adds it)."""
    if not isinstance(obj, dict):
        raise WorkbenchError(f"expected a JSON object, got {type(obj).__name__}")
    example_id = obj.get("id")
    if not isinstance(example_id, int) or isinstance(example_id, bool):
        raise WorkbenchError(f"'id' (Doccano's example id) must be an integer, got {example_id!r}")
    raw_doc_id = obj.get("doc_id")
    doc_id = raw_doc_id if isinstance(raw_doc_id, str) and raw_doc_id else None
    comments = obj.get("Comments") or []
    if not isinstance(comments, list):
        raise WorkbenchError("'Comments' must be a list", doc_id=doc_id)
    fields = {k: v for k, v in obj.items() if k not in ("id", "Comments", "doc_id")}
    # Export columns after Doccano's own are the metadata we uploaded; doccano_id first, as snapshots show it.
    record = record_from_dict({"doc_id": doc_id or f"doccano-example-{example_id}", "doccano_id": example_id, **fields})
    texts = [c.get("comment") for c in comments if isinstance(c, dict)]
    if texts:
        record.meta["comments"] = texts
    return ExportRow(example_id, doc_id, record)


def read_export_file(path: Path) -> list[ExportRow]:
    """A member's export file; the first bad row is an error naming the file (as in the export) and line."""
    rows = []
    for number, obj, problem in iter_json_lines(path):
        if problem:
            raise WorkbenchError(f"{problem} in Doccano's export", path=path.name, line=number)
        try:
            rows.append(parse_export_row(obj))
        except WorkbenchError as exc:
            raise WorkbenchError(f"{exc.message} in Doccano's export", path=path.name, line=number, doc_id=exc.doc_id) from None
    return rows


def read_export(zip_path: Path, work_dir: Path, max_bytes: int = MAX_BYTES) -> dict[str, list[ExportRow]]:
    """username -> parsed export rows, from one export zip."""
    return {p.name[: -len(".jsonl")]: read_export_file(p) for p in safe_extract(zip_path, work_dir, max_bytes)}


def annotator_records(
    confirmed: dict[str, list[ExportRow]], everything: dict[str, list[ExportRow]] | None
) -> tuple[dict[str, list[AnnotatedDoc]], int]:
    """Per annotator, their records sorted by doc_id; and how many examples had no doc_id.

    Without `everything` (confirmed only), each member's confirmed examples. With it,
    also the examples a member labelled but did not confirm; members with nothing are left out.
    """
    out: dict[str, list[AnnotatedDoc]] = {}
    unmapped = 0
    for user in sorted(set(confirmed) | set(everything or {})):
        confirmed_ids = {row.example_id for row in confirmed.get(user, [])}
        rows = confirmed.get(user, []) if everything is None else everything.get(user, [])
        records = []
        for row in rows:
            is_confirmed = row.example_id in confirmed_ids
            if not is_confirmed and not row.labelled:
                continue
            if row.doc_id is None:
                unmapped += 1
                continue
            records.append(row.as_record(user, is_confirmed))
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


def build_manifest(root: Path, base: dict, records: dict[str, list[AnnotatedDoc]]) -> dict:
    """The manifest for the annotator files already written under root."""
    counts = {
        user: {"documents": len(docs), "entities": sum(len(d.entities) for d in docs), "relations": sum(len(d.relations) for d in docs)}
        for user, docs in sorted(records.items())
    }
    files = {f"{ANNOTATOR_DIR}/{user}.jsonl": sha256_of_files([root / ANNOTATOR_DIR / f"{user}.jsonl"]) for user in sorted(records)}
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
    corpus: Corpus | None = None,
    allow_invalid: bool = False,
) -> PullResult:
    """Write, validate and publish the snapshot; with validation problems (unless allowed) nothing is published."""
    if final.exists():
        raise WorkbenchError("snapshot exists already; snapshots are never overwritten, choose another --name", path=final)
    staging = staging_dir(final)
    try:
        for user, docs in records.items():
            write_records(staging / ANNOTATOR_DIR / f"{user}.jsonl", docs)
        problems = []
        for user in sorted(records):
            # One file at a time: every annotator has the same documents, which is no duplicate.
            found, _ = validate_files([staging / ANNOTATOR_DIR / f"{user}.jsonl"], scheme, corpus)
            problems += [replace(p, path=f"{ANNOTATOR_DIR}/{user}.jsonl") for p in found]
        if problems and not allow_invalid:
            return PullResult(None, None, problems, 0)
        manifest = build_manifest(staging, base, records)
        write_json(staging / MANIFEST, manifest)
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
    corpus: Corpus | None = None,
    allow_invalid: bool = False,
    max_bytes: int = MAX_BYTES,
) -> PullResult:
    project = session.find_project(project_name)
    if project is None:
        raise WorkbenchError(f"Doccano at {session.url} has no project {project_name!r}; run `workbench doccano push` first")
    now = datetime.now(timezone.utc)
    final = Path(snapshots) / check_snapshot_name(name or snapshot_name(project.name, now))
    # Each snapshot has a new name, so its staging folder is not the one a killed pull left: clear them all.
    remove_stale(snapshots)
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
