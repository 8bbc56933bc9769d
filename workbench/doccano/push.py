"""Push articles, with optional pre-annotations, to the Doccano project: set it up, then upload only what is missing.

An article is known to Doccano by the `doc_id` in its example's metadata. Before
each push the project's doc_ids are listed and only the missing articles are
uploaded, in batches, so pushing twice or resuming an interrupted push uploads
nothing twice; copies that a race left behind (a batch still importing when a
push resumed) are removed, the oldest example of each doc_id is kept.

Pre-annotations travel in the same import (Doccano's JSONL relation format) and
belong to the user who pushes them; see annotators.py for how each annotator
gets their own copy to correct.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from tqdm import tqdm

from workbench.corpus.ingest import text_sha256
from workbench.corpus.store import load_corpus
from workbench.doccano.annotators import untouched_doc_ids
from workbench.doccano.client import PROJECT_TYPE, DoccanoSession, LabelType, Project
from workbench.errors import WorkbenchError
from workbench.fileio import write_jsonl
from workbench.labels import LabelScheme
from workbench.predict_cluster import ClusterPredictor
from workbench.records import AnnotatedDoc

# (doc_id, text, metadata), as workbench.predict.predict_records takes them.
Article = tuple[str, str, dict]
Predictor = Callable[[Sequence[Article]], Iterable[AnnotatedDoc]]
META_KEYS = ("split", "sha256")


@dataclass(frozen=True)
class PushCounts:
    # New articles uploaded, and the asked-for articles the project had before the push
    # (refreshed or not: refreshing replaces an example, it does not add an article).
    uploaded: int
    already_there: int
    duplicates_removed: int
    # Pre-annotations in the uploaded (or refreshed) articles.
    spans: int = 0
    relations: int = 0
    # With predictions, of the articles already there: those whose pre-annotations were
    # replaced, and those left as they were (not asked to refresh, or an annotator has started).
    refreshed: int = 0
    predictions_skipped: int = 0


@dataclass(frozen=True)
class PushResult:
    project: Project
    created: bool
    counts: PushCounts


def text_color_for(background: str) -> str:
    """Black or white, whichever reads better on the label colour (Doccano's default is always white)."""
    red, green, blue = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#ffffff"


def ensure_project(
    session: DoccanoSession, name: str, description: str, guideline: str, scheme: LabelScheme, allow_overlapping: bool = False
) -> tuple[Project, bool]:
    """Find the project by name or create it; set its description, guideline, and span and relation types from the label config."""
    project = session.find_project(name)
    created = project is None
    if project is None:
        project = session.create_project(name, description, guideline, allow_overlapping)
    else:
        if project.project_type != PROJECT_TYPE or not project.use_relation or project.collaborative:
            raise WorkbenchError(
                f"Doccano project {name!r} exists but is not sequence labelling with relations and per-annotator "
                "(not shared) annotations; rename `project` in configs/doccano.yml"
            )
        if allow_overlapping and not project.allow_overlapping:
            raise WorkbenchError(f"Doccano project {name!r} exists but does not allow overlapping spans, which a review needs")
        # What annotators read is the current config's and guideline's, also in a project made earlier.
        session.set_description_and_guideline(project.id, description, guideline)
    sync_label_types(session, project.id, scheme)
    return project, created


def sync_label_types(session: DoccanoSession, project_id: int, scheme: LabelScheme) -> None:
    specs = {"span": scheme.entities.values(), "relation": scheme.relations.values()}
    for kind, labels in specs.items():
        existing = session.label_types(project_id, kind)
        for spec in labels:
            old = existing.get(spec.name)
            want = LabelType(old.id if old else 0, spec.name, spec.color, text_color_for(spec.color), spec.shortcut)
            if old != want:
                session.save_label_type(project_id, kind, want)


def articles_from_corpus(corpus: str | Path, split: str | None = None, ids: Sequence[str] | None = None) -> list[Article]:
    """Articles of the built corpus in doc_id order: all, one split, or the given ids (unknown ids are an error)."""
    data = load_corpus(corpus)
    wanted = set(ids or ())
    articles = []
    for row in data:
        if split and row["split"] != split:
            continue
        if wanted and row["doc_id"] not in wanted:
            continue
        articles.append((row["doc_id"], row["text"], {"split": row["split"], "sha256": row["sha256"]}))
    missing = sorted(wanted - {a[0] for a in articles})
    if missing:
        raise WorkbenchError(f"not in the corpus{f' split {split}' if split else ''}: {', '.join(missing)}", path=corpus)
    return sorted(articles, key=lambda a: a[0])


def upload_row(article: Article, prediction: AnnotatedDoc | None) -> dict:
    """One line of the import file: text, doc_id and metadata, and the pre-annotations with integer ids."""
    doc_id, text, meta = article
    # Every metadata key becomes Doccano example metadata, which annotators see beside the text.
    row = {**meta, "text": text, "doc_id": doc_id, "split": meta.get("split"), "sha256": meta.get("sha256") or text_sha256(text)}
    entities, relations = [], []
    if prediction is not None:
        if prediction.text != text:
            raise WorkbenchError("pre-annotation text differs from the article text", doc_id=doc_id)
        # Doccano links relations to spans by integer ids within the line.
        number = {e.id: i for i, e in enumerate(prediction.entities, start=1)}
        entities = [{"id": number[e.id], "label": e.label, "start_offset": e.start, "end_offset": e.end} for e in prediction.entities]
        relations = [
            {"id": i, "from_id": number[r.head], "to_id": number[r.tail], "type": r.type}
            for i, r in enumerate(prediction.relations, start=1)
            if r.head in number and r.tail in number
        ]
    return {**row, "entities": entities, "relations": relations}


def push_articles(
    session: DoccanoSession,
    project: Project,
    articles: Sequence[Article],
    predict: Predictor | None = None,
    batch_size: int = 200,
    refresh: bool = False,
) -> PushCounts:
    """Upload the articles the project lacks; with `refresh`, also re-upload untouched ones with new pre-annotations.

    A refreshed article is imported again with the new pre-annotations and its old
    example deleted afterwards, so an interruption never leaves it missing (a later
    push removes the newer copy, the old pre-annotations stay, and a refresh can be rerun).
    """
    examples = session.examples(project.id)
    present = {e.doc_id for e in examples}
    todo = [a for a in articles if a[0] not in present]
    there = [a for a in articles if a[0] in present]
    stale: dict[str, list[int]] = {}
    if predict is not None and refresh and there:
        untouched = untouched_doc_ids(session, project.id)
        stale = {a[0]: [e.id for e in examples if e.doc_id == a[0]] for a in there if a[0] in untouched}
    upload = todo + [a for a in there if a[0] in stale]
    spans = relations = 0
    with tempfile.TemporaryDirectory(prefix="workbench-push-") as tmp, tqdm(
        total=len(upload), desc="push", unit="doc", disable=len(upload) < 20
    ) as bar:
        for start in range(0, len(upload), batch_size):
            batch = upload[start : start + batch_size]
            predictions = {r.doc_id: r for r in predict(batch)} if predict else {}
            rows = [upload_row(a, predictions.get(a[0])) for a in batch]
            spans += sum(len(row["entities"]) for row in rows)
            relations += sum(len(row["relations"]) for row in rows)
            path = Path(tmp) / f"batch-{start // batch_size:05d}.jsonl"
            write_jsonl(path, rows)
            session.import_jsonl(project.id, path)
            session.delete_examples(project.id, sorted(i for a in batch for i in stale.get(a[0], [])))
            bar.update(len(batch))
    removed = remove_duplicates(session, project.id)
    skipped = len(there) - len(stale) if predict is not None else 0
    return PushCounts(len(todo), len(there), removed, spans, relations, len(stale), skipped)


def duplicate_examples(examples) -> list[int]:
    """Example ids to delete so that each doc_id keeps one example, its oldest (lowest id)."""
    by_doc: dict[str, list[int]] = defaultdict(list)
    for example in examples:
        if example.doc_id is not None:
            by_doc[example.doc_id].append(example.id)
    return sorted(i for ids in by_doc.values() for i in sorted(ids)[1:])


def remove_duplicates(session: DoccanoSession, project_id: int) -> int:
    extra = duplicate_examples(session.examples(project_id))
    session.delete_examples(project_id, extra)
    return len(extra)


def records_predictor(records: Iterable[AnnotatedDoc]) -> Predictor:
    """Pre-annotations from canonical records (e.g. a gold or a predicted JSONL file), looked up by doc_id."""
    by_id = {r.doc_id: r for r in records}
    return lambda batch: [by_id[a[0]] for a in batch if a[0] in by_id]


def model_predictor(model: str | Path) -> Predictor:
    """Pre-annotations from a trained spaCy pipeline, predicted batch by batch on a Dask LocalCluster (`workbench predict`'s path)."""
    return ClusterPredictor(model)


def push(
    session: DoccanoSession,
    name: str,
    description: str,
    guideline: str,
    scheme: LabelScheme,
    articles: Sequence[Article],
    predict: Predictor | None = None,
    batch_size: int = 200,
    allow_overlapping: bool = False,
    refresh: bool = False,
) -> PushResult:
    project, created = ensure_project(session, name, description, guideline, scheme, allow_overlapping)
    return PushResult(project, created, push_articles(session, project, articles, predict, batch_size, refresh))
