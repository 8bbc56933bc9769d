"""Correction effort: what each annotator did to the pre-annotations pushed with a document.

Entities of the pushed version are matched one to one with the annotator's, in this order:
  kept              same offsets, same label
  changed label     same offsets, another label
  changed boundary  overlapping offsets (any label), largest overlap first
  deleted           pushed, with no counterpart
  added             the annotator's, with no counterpart
Relations are compared through that matching: a pushed relation's arguments become their
counterparts, then
  kept              the annotator has it with the same type, and both arguments were kept
  changed boundary  the annotator has it with the same type, and an argument was changed
  changed label     the annotator has it between the same arguments with another type
  deleted / added   the rest.
Symmetric relation types match in either direction. A high "kept" share means the model
saved work; a low one, by label, says where it fails.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from workbench.annotations.snapshot import CONFIRMED, Snapshot
from workbench.errors import WorkbenchError
from workbench.labels import LabelScheme
from workbench.metrics import pct
from workbench.records import AnnotatedDoc, EntityId, read_records

OUTCOMES = ("kept", "changed_label", "changed_boundary", "deleted", "added")


@dataclass
class Counts:
    kept: int = 0
    changed_label: int = 0
    changed_boundary: int = 0
    deleted: int = 0
    added: int = 0

    @property
    def pushed(self) -> int:
        return self.kept + self.changed_label + self.changed_boundary + self.deleted

    @property
    def kept_share(self) -> float | None:
        return self.kept / self.pushed if self.pushed else None

    def add(self, other: "Counts") -> None:
        for name in OUTCOMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict:
        share = self.kept_share
        return {**asdict(self), "pushed": self.pushed, "kept_share": None if share is None else round(share, 4)}


@dataclass
class DocEffort:
    entities: Counts
    relations: Counts


@dataclass
class AnnotatorEffort:
    documents: int = 0
    entities: Counts = field(default_factory=Counts)
    relations: Counts = field(default_factory=Counts)

    def to_dict(self) -> dict:
        return {"documents": self.documents, "entities": self.entities.to_dict(), "relations": self.relations.to_dict()}


@dataclass(frozen=True)
class EffortReport:
    annotators: dict[str, AnnotatorEffort]
    # Confirmed documents with no recorded pre-annotations: pushed without a model, or before recording.
    not_pushed: dict[str, int]

    def to_dict(self) -> dict:
        return {
            "annotators": {name: effort.to_dict() for name, effort in self.annotators.items()},
            "documents_without_pre_annotations": self.not_pushed,
        }


def match_entities(pushed: AnnotatedDoc, final: AnnotatedDoc) -> tuple[Counts, dict[EntityId, tuple[EntityId, bool]]]:
    """Entity counts, and pushed id -> (annotator's id, whether the span was kept exactly)."""
    counts = Counts()
    matched: dict[EntityId, tuple[EntityId, bool]] = {}
    free = list(final.entities)

    def take(entity, found, kept: bool) -> None:
        matched[entity.id] = (found.id, kept)
        free.remove(found)

    left = []
    for entity in pushed.entities:
        found = next((e for e in free if (e.start, e.end, e.label) == (entity.start, entity.end, entity.label)), None)
        if found is not None:
            take(entity, found, True)
            counts.kept += 1
        else:
            left.append(entity)
    rest = []
    for entity in left:
        found = next((e for e in free if (e.start, e.end) == (entity.start, entity.end)), None)
        if found is not None:
            take(entity, found, False)
            counts.changed_label += 1
        else:
            rest.append(entity)
    overlaps = sorted(
        ((min(p.end, f.end) - max(p.start, f.start), p.start, f.start, p, f) for p in rest for f in free if p.start < f.end and f.start < p.end),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    for _, _, _, entity, found in overlaps:
        if entity.id not in matched and found in free:
            take(entity, found, False)
            counts.changed_boundary += 1
    counts.deleted = sum(1 for e in pushed.entities if e.id not in matched)
    counts.added = len(free)
    return counts, matched


def match_relations(pushed: AnnotatedDoc, final: AnnotatedDoc, entities: Mapping[EntityId, tuple[EntityId, bool]], symmetric: set[str]) -> Counts:
    counts = Counts()
    free = [(r.head, r.tail, r.type) for r in final.relations]

    def find(head, tail, same_type: bool, relation_type: str):
        for key in free:
            direct = (key[0], key[1]) == (head, tail)
            either_way = key[2] in symmetric and (key[1], key[0]) == (head, tail)
            if (key[2] == relation_type) == same_type and (direct or either_way):
                return key
        return None

    left = []
    for relation in pushed.relations:
        if relation.head not in entities or relation.tail not in entities:
            counts.deleted += 1
            continue
        (head, head_kept), (tail, tail_kept) = entities[relation.head], entities[relation.tail]
        found = find(head, tail, True, relation.type)
        if found is None:
            left.append((relation, head, tail))
            continue
        free.remove(found)
        if head_kept and tail_kept:
            counts.kept += 1
        else:
            counts.changed_boundary += 1
    for relation, head, tail in left:
        found = find(head, tail, False, relation.type)
        if found is not None:
            free.remove(found)
            counts.changed_label += 1
        else:
            counts.deleted += 1
    counts.added = len(free)
    return counts


def compare(pushed: AnnotatedDoc, final: AnnotatedDoc, symmetric: set[str]) -> DocEffort:
    if pushed.text != final.text:
        raise WorkbenchError("the pushed pre-annotations have another text than the annotator's document", doc_id=final.doc_id)
    entities, matched = match_entities(pushed, final)
    return DocEffort(entities, match_relations(pushed, final, matched, symmetric))


def measure_effort(snapshot: Snapshot, pushed: Mapping[str, AnnotatedDoc], scheme: LabelScheme) -> EffortReport:
    """Per annotator, summed over the documents they confirmed that were pushed with pre-annotations."""
    report: dict[str, AnnotatorEffort] = {}
    not_pushed: dict[str, int] = {}
    for annotator in snapshot.annotators:
        effort = AnnotatorEffort()
        not_pushed[annotator] = 0
        for doc_id, record in sorted(snapshot.docs[annotator].items()):
            if snapshot.status(annotator, doc_id) != CONFIRMED:
                continue
            if doc_id not in pushed:
                not_pushed[annotator] += 1
                continue
            try:
                doc = compare(pushed[doc_id], record, scheme.symmetric_types)
            except WorkbenchError as exc:
                raise snapshot.error(exc.message, annotator, doc_id) from None
            effort.documents += 1
            effort.entities.add(doc.entities)
            effort.relations.add(doc.relations)
        report[annotator] = effort
    return EffortReport(report, not_pushed)


def read_pushed(paths: Iterable[str | Path]) -> dict[str, AnnotatedDoc]:
    """doc_id -> the pre-annotations pushed with it, from push records' pre-annotations files.

    The same document in two files must carry the same pre-annotations: a document is
    uploaded once, so two versions would mean the records are mixed up.
    """
    pushed: dict[str, AnnotatedDoc] = {}
    where: dict[str, Path] = {}
    for path in sorted(Path(p) for p in paths):
        for record in read_records(path):
            earlier = pushed.get(record.doc_id)
            if earlier is not None and _content(earlier) != _content(record):
                raise WorkbenchError(f"pushed with other pre-annotations in {where[record.doc_id]}", path=path, doc_id=record.doc_id)
            pushed.setdefault(record.doc_id, record)
            where.setdefault(record.doc_id, path)
    return pushed


def _content(record: AnnotatedDoc) -> tuple:
    spans = {e.id: (e.start, e.end, e.label) for e in record.entities}
    return (record.text, sorted(spans.values()), sorted((spans[r.head], spans[r.tail], r.type) for r in record.relations))


def format_effort(report: EffortReport) -> str:
    header = f"{'annotator':<14}{'':<10}{'docs':>5}{'kept':>7}{'label':>7}{'bound.':>7}{'deleted':>8}{'added':>7}{'kept %':>8}"
    lines = [header]
    for name, effort in report.annotators.items():
        for kind, counts in (("entities", effort.entities), ("relations", effort.relations)):
            share = counts.kept_share
            lines.append(
                f"{name if kind == 'entities' else '':<14}{kind:<10}{effort.documents if kind == 'entities' else '':>5}"
                f"{counts.kept:>7}{counts.changed_label:>7}{counts.changed_boundary:>7}{counts.deleted:>8}{counts.added:>7}"
                f"{pct(share, '-'):>8}"
            )
    skipped = {name: n for name, n in report.not_pushed.items() if n}
    if skipped:
        lines.append("confirmed documents without recorded pre-annotations (not counted): "
                     + ", ".join(f"{name} {n}" for name, n in skipped.items()))
    return "\n".join(lines)
