"""What every command that reads annotations accepts: canonical JSONL files and pulled snapshot folders.

A snapshot folder (`workbench doccano pull` writes them) is `manifest.json` (annotators,
and the sha256 of every file) plus one `annotators/<username>.jsonl` per annotator. It
stands for its annotator files, each checked against the sha256 its manifest records; a
file stands for itself. Files and folders may be mixed, and given several at a time.

Commands that read every annotator's version (validate, agreement, adjudicate, effort,
stats, reach) take the files as they are; commands that read gold (data, evaluate,
crossval) take `read_gold`, which holds each document once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from workbench.errors import WorkbenchError
from workbench.fileio import sha256_of_files
from workbench.records import AnnotatedDoc, iter_records

MANIFEST = "manifest.json"
ANNOTATOR_DIR = "annotators"
INPUTS_HELP = "Canonical JSONL files and/or snapshot folders (annotations/snapshots/NAME: each annotator's file)"


@dataclass(frozen=True)
class AnnotationFile:
    path: Path
    # For a snapshot's file: its annotator (from the manifest) and the snapshot folder; None for a plain file.
    annotator: str | None = None
    snapshot: Path | None = None


def is_snapshot(path: str | Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def annotation_files(paths: Iterable[str | Path]) -> list[AnnotationFile]:
    """The files behind the paths given, in order: a snapshot folder's annotator files (checked), a file itself."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise WorkbenchError("give annotation files (canonical JSONL) or snapshot folders")
    files = []
    for path in paths:
        if path.is_dir():
            manifest = checked_manifest(path)
            annotators = zip(manifest["annotators"], annotator_paths(path, manifest))
            files += [AnnotationFile(file, name, path) for name, file in annotators]
        elif path.exists():
            files.append(AnnotationFile(path))
        else:
            raise WorkbenchError("no such annotation file or snapshot folder", path=path)
    return files


def annotation_paths(paths: Iterable[str | Path]) -> list[Path]:
    return [f.path for f in annotation_files(paths)]


def iter_gold(paths: Iterable[str | Path]) -> Iterator[tuple[Path, int, AnnotatedDoc]]:
    """(file, line, record) of gold: every document once and, in a snapshot, confirmed by its annotator."""
    seen: dict[str, str] = {}
    for file in annotation_files(paths):
        for number, record in iter_records(file.path):
            where = {"path": file.path, "line": number, "doc_id": record.doc_id}
            if record.doc_id in seen:
                hint = "; a snapshot of several annotators is made gold by `workbench annotations adjudicate`"
                raise WorkbenchError(f"document is also in {seen[record.doc_id]}{hint if file.snapshot else ''}", **where)
            if record.meta.get("confirmed", True) is not True:
                raise WorkbenchError(
                    "not confirmed by its annotator, so not gold (`workbench annotations adjudicate --min-annotators 1` "
                    "makes gold of one annotator's confirmed documents)",
                    **where,
                )
            seen[record.doc_id] = str(file.path)
            yield file.path, number, record


def read_gold(paths: Iterable[str | Path]) -> list[AnnotatedDoc]:
    return [record for _, _, record in iter_gold(paths)]


def checked_manifest(directory: Path) -> dict:
    """The snapshot's manifest, once every file it lists matches its sha256 and no annotator file is unlisted."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise WorkbenchError(f"not a snapshot folder: no {MANIFEST} (give a snapshot folder or JSONL files)", path=directory)
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
