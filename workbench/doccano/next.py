"""`doccano next`: rank the corpus articles no one has annotated yet, push the top N with pre-annotations, record it all.

Each push is recorded in PUSHES/<project>-<UTC time>/ (written in a staging folder and
renamed into place, like a snapshot):

    ranking.json            order, seed, model, every ranked article with its score, the N chosen
    pre-annotations.jsonl   the pre-annotations sent with each uploaded article (canonical records)

`annotations effort` compares a pull with pre-annotations.jsonl, so what an annotator
changed is measured against what they were shown.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from workbench.annotation_files import annotation_paths, is_snapshot
from workbench.annotations.effort import measure_effort, read_pushed
from workbench.annotations.ranking import Ranking, rank_documents
from workbench.annotations.snapshot import Snapshot
from workbench.doccano.client import DoccanoSession, Project
from workbench.doccano.config import DoccanoSettings
from workbench.doccano.pull import MAX_BYTES, annotator_records, read_export
from workbench.doccano.push import Article, Predictor, PushResult, model_predictor, push
from workbench.errors import WorkbenchError
from workbench.fileio import remove_stale, staging_dir, write_json
from workbench.labels import LabelScheme
from workbench.predict import load_pipeline
from workbench.records import AnnotatedDoc, iter_records, write_records

RANKING = "ranking.json"
PRE_ANNOTATIONS = "pre-annotations.jsonl"


@dataclass(frozen=True)
class NextResult:
    ranking: Ranking
    chosen: list[str]
    push: PushResult
    record: Path


def unannotated(articles: Sequence[Article], in_project: Iterable[str], annotated: Iterable[str]) -> list[Article]:
    """The articles that are neither in the Doccano project nor in any annotation file already."""
    skip = set(in_project) | set(annotated)
    return [article for article in articles if article[0] not in skip]


def annotated_doc_ids(paths: Iterable[str | Path]) -> set[str]:
    """doc_ids in annotation files and snapshot folders (annotation_files), or in every *.jsonl under any other folder.

    The other folders are collections, such as the defaults annotations/gold and annotations/snapshots.
    """
    ids: set[str] = set()
    for path in map(Path, paths):
        collection = path.is_dir() and not is_snapshot(path)
        for file in sorted(path.rglob("*.jsonl")) if collection else annotation_paths([path]):
            ids.update(record.doc_id for _, record in iter_records(file))
    return ids


def recording(predict: Predictor, sent: list[AnnotatedDoc]) -> Predictor:
    """The predictor, keeping every prediction it hands to push: these are the pre-annotations sent."""

    def predict_and_keep(batch: Sequence[Article]) -> list[AnnotatedDoc]:
        found = list(predict(batch))
        sent.extend(found)
        return found

    return predict_and_keep


def record_name(project: str, now: datetime) -> str:
    return f"{project}-{now.strftime('%Y%m%dT%H%M%SZ')}"


def push_next(
    session: DoccanoSession,
    settings: DoccanoSettings,
    scheme: LabelScheme,
    guideline: str,
    articles: Sequence[Article],
    n: int,
    order: str,
    model: str | Path | None,
    annotated: Iterable[str] = (),
    seed: int = 0,
) -> NextResult:
    """Rank the articles not yet in the project nor annotated, push the top n with the model's pre-annotations, record both."""
    if n < 1:
        raise WorkbenchError(f"N must be at least 1, got {n}")
    project = session.find_project(settings.project)
    in_project = {e.doc_id for e in session.examples(project.id)} if project is not None else set()
    done = set(annotated)
    pool = unannotated(articles, in_project, done)
    if not pool:
        raise WorkbenchError("every corpus article is already in the project or annotated: nothing to rank")
    nlp = load_pipeline(model) if model is not None else None
    known = {a[0]: a[1] for a in articles if a[0] in in_project or a[0] in done}
    ranking = rank_documents(nlp, {a[0]: a[1] for a in pool}, order, seed, known)
    chosen = ranking.top(n)
    by_id = {a[0]: a for a in pool}
    sent: list[AnnotatedDoc] = []
    predict = recording(model_predictor(model), sent) if model is not None else None
    now = datetime.now(timezone.utc)
    final = Path(settings.pushes) / record_name(settings.project, now)
    remove_stale(settings.pushes)  # staging a killed run left under another record's name
    if final.exists():
        raise WorkbenchError("a push record of this name exists already; try again in a second", path=final)
    staging = staging_dir(final)
    try:
        result = push(session, settings.project, settings.description, guideline, scheme, [by_id[i] for i in chosen], predict, settings.batch_size)
        write_json(staging / RANKING, {
            "project": settings.project,
            "created": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "model": str(model) if model is not None else None,
            "requested": n,
            "chosen": chosen,
            "uploaded": result.counts.uploaded,
            "excluded": {"in_project": sum(a[0] in in_project for a in articles), "annotated": sum(a[0] in done - in_project for a in articles)},
            **ranking.to_dict(),
        })
        write_records(staging / PRE_ANNOTATIONS, sent)
        os.rename(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return NextResult(ranking, chosen, result, final)


def project_pre_annotations(pushes: str | Path, project: str) -> list[Path]:
    """The pre-annotations files of the push records made for this project."""
    files = []
    for ranking in sorted(Path(pushes).glob(f"*/{RANKING}")):
        try:
            made_for = json.loads(ranking.read_text(encoding="utf-8")).get("project")
        except (OSError, ValueError) as exc:
            raise WorkbenchError(f"cannot read the push record: {exc}", path=ranking) from None
        if made_for == project and (ranking.parent / PRE_ANNOTATIONS).exists():
            files.append(ranking.parent / PRE_ANNOTATIONS)
    return files


def live_effort(session: DoccanoSession, project: Project, pre_annotations: list[Path], scheme: LabelScheme, max_bytes: int | None = None):
    """Effort per annotator on what they have confirmed in Doccano now (a confirmed-only export; no snapshot written)."""
    limit = max_bytes or MAX_BYTES
    with tempfile.TemporaryDirectory(prefix="workbench-effort-") as tmp:
        zip_path = session.export(project.id, True, Path(tmp) / "confirmed.zip", limit)
        records, _ = annotator_records(read_export(zip_path, Path(tmp) / "confirmed", limit), None)
    snapshot = Snapshot(project.name, None, {user: {r.doc_id: r for r in docs} for user, docs in records.items()})
    return measure_effort(snapshot, read_pushed(pre_annotations), scheme)


def pre_annotation_files(paths: Iterable[str | Path]) -> list[Path]:
    """pre-annotations.jsonl files: given directly, or found in push records under the given folders."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(path.rglob(PRE_ANNOTATIONS))
        elif path.exists():
            found.append(path)
        else:
            raise WorkbenchError("no such push record or pre-annotations file", path=path)
    return found
