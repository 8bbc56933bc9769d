"""Adjudication: merge the annotators' versions into one gold set by vote, and list the conflicts.

The voters of a document are the annotators who confirmed it; a document with
fewer than `min_annotators` voters stays out of gold. An entity is its span and
label, a relation its two argument entities and type (symmetric types in text
order). An item enters gold when enough voters made it: all of them
(`unanimous`) or more than half (`majority`; with two voters that is both). A
relation enters only if both its argument spans did. Every other item is a
conflict, shown with what each voter marked there.

Conflicting documents go to review as the union of all versions; a resolved
review record then replaces the document's annotations in gold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.annotations.snapshot import ANNOTATOR_KEYS, CONFIRMED, Snapshot
from workbench.errors import WorkbenchError
from workbench.metrics import relation_items
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc, Entity, Relation

POLICIES = ("majority", "unanimous")

SpanKey = tuple[int, int, str]
RelationKey = tuple[tuple[SpanKey, SpanKey], str]


@dataclass
class Votes:
    """Who made each entity and relation of one document."""

    voters: list[str]
    entities: dict[SpanKey, list[str]] = field(default_factory=dict)
    relations: dict[RelationKey, list[str]] = field(default_factory=dict)


@dataclass
class Adjudication:
    policy: str
    min_annotators: int
    provenance: dict
    gold: list[AnnotatedDoc] = field(default_factory=list)
    # doc_id -> conflicts; only documents that have some.
    conflicts: dict[str, list[dict]] = field(default_factory=dict)
    votes: dict[str, Votes] = field(default_factory=dict)
    skipped: list[dict] = field(default_factory=list)
    # doc_id -> who resolved its conflicts in review.
    reviewed: dict[str, str | None] = field(default_factory=dict)

    def open_conflicts(self) -> dict[str, list[dict]]:
        return {doc_id: c for doc_id, c in self.conflicts.items() if doc_id not in self.reviewed}


def needed_votes(policy: str, voters: int) -> int:
    return voters if policy == "unanimous" else voters // 2 + 1


def collect_votes(records: dict[str, AnnotatedDoc], scheme: LabelScheme) -> Votes:
    votes = Votes(sorted(records))
    for name in votes.voters:
        record = records[name]
        # Sets: an annotator who marked the same thing twice still has one vote.
        for key in sorted({(e.start, e.end, e.label) for e in record.entities}):
            votes.entities.setdefault(key, []).append(name)
        for key in sorted(set(relation_items(record, scheme))):
            votes.relations.setdefault(key, []).append(name)
    return votes


def build_record(base: AnnotatedDoc, entities: dict[SpanKey, list[str]], relations: dict[RelationKey, list[str]], meta: dict) -> AnnotatedDoc:
    """A canonical record with ids in text order, each item naming its annotators; relations need both arguments."""
    ids: dict[SpanKey, int] = {}
    ents = []
    for number, key in enumerate(sorted(entities), start=1):
        start, end, label = key
        ents.append(Entity(number, label, start, end, {"annotators": entities[key]}))
        ids[key] = number
    rels = []
    for key in sorted(relations):
        (head, tail), rel_type = key
        if head in ids and tail in ids:
            rels.append(Relation(len(rels) + 1, ids[head], ids[tail], rel_type, {"annotators": relations[key]}))
    return AnnotatedDoc(base.doc_id, base.text, ents, rels, meta)


def base_meta(record: AnnotatedDoc) -> dict:
    """The record's metadata without who annotated it and how far: that belongs to one annotator, not to gold."""
    return {k: v for k, v in record.meta.items() if k not in ANNOTATOR_KEYS and k != "adjudication"}


def span_info(key: SpanKey, text: str) -> dict:
    start, end, label = key
    return {"label": label, "start": start, "end": end, "text": text[start:end]}


def entity_conflicts(votes: Votes, needed: int, text: str) -> list[dict]:
    """Spans without enough votes, grouped where they overlap, with every voter's spans in that stretch."""
    losing = sorted(k for k, names in votes.entities.items() if len(names) < needed)
    groups: list[list[int]] = []
    for start, end, _ in losing:
        if groups and start < groups[-1][1]:
            groups[-1][1] = max(groups[-1][1], end)
        else:
            groups.append([start, end])
    conflicts = []
    for start, end in groups:
        versions = {name: [] for name in votes.voters}
        for key, names in sorted(votes.entities.items()):
            if key[0] < end and start < key[1]:
                for name in names:
                    versions[name].append({**span_info(key, text), "in_gold": len(names) >= needed})
        conflicts.append({"kind": "entity", "start": start, "end": end, "text": text[start:end], "versions": versions})
    return conflicts


def relation_conflicts(votes: Votes, needed: int, text: str) -> list[dict]:
    conflicts = []
    for key, names in sorted(votes.relations.items()):
        if len(names) < needed:
            (head, tail), rel_type = key
            conflicts.append(
                {
                    "kind": "relation",
                    "type": rel_type,
                    "head": span_info(head, text),
                    "tail": span_info(tail, text),
                    "by": names,
                    "not_by": [n for n in votes.voters if n not in names],
                }
            )
    return conflicts


def describe_conflict(conflict: dict) -> str:
    """One line of who said what, for people (reports, review notes)."""
    if conflict["kind"] == "relation":
        head, tail = conflict["head"], conflict["tail"]
        what = f"{conflict['type']} {head['label']} {head['text']!r} -> {tail['label']} {tail['text']!r}"
        return f"{what}: by {', '.join(conflict['by'])}; not by {', '.join(conflict['not_by'])}"
    said = []
    for name, spans in conflict["versions"].items():
        marked = ", ".join(f"{s['label']} {s['text']!r}" for s in spans) or "nothing"
        said.append(f"{name}: {marked}")
    return f"{conflict['start']}-{conflict['end']} {conflict['text']!r}: " + "; ".join(said)


def vote_document(result: Adjudication, records: dict[str, AnnotatedDoc], scheme: LabelScheme) -> None:
    """Add one document's gold record, votes and conflicts to `result`; `records` are the voters' versions."""
    votes = collect_votes(records, scheme)
    needed = needed_votes(result.policy, len(votes.voters))
    base = records[votes.voters[0]]
    conflicts = entity_conflicts(votes, needed, base.text) + relation_conflicts(votes, needed, base.text)
    adjudication = {**result.provenance, "policy": result.policy, "annotators": votes.voters, "conflicts": len(conflicts), "provenance": "vote"}
    entities = {key: names for key, names in votes.entities.items() if len(names) >= needed}
    relations = {key: names for key, names in votes.relations.items() if len(names) >= needed}
    result.gold.append(build_record(base, entities, relations, {**base_meta(base), "adjudication": adjudication}))
    result.votes[base.doc_id] = votes
    if conflicts:
        result.conflicts[base.doc_id] = conflicts


def adjudicate(snapshot: Snapshot, scheme: LabelScheme, policy: str = "majority", min_annotators: int = 2) -> Adjudication:
    """Vote every document that enough annotators confirmed into gold; see the module docstring."""
    if policy not in POLICIES:
        raise WorkbenchError(f"unknown policy {policy!r}; use {' or '.join(POLICIES)}")
    if min_annotators < 1:
        raise WorkbenchError("min_annotators must be 1 or more")
    result = Adjudication(policy, min_annotators, snapshot.provenance())
    for doc_id in snapshot.doc_ids():
        voters = snapshot.confirmed_by(doc_id)
        if len(voters) < min_annotators:
            result.skipped.append({"doc_id": doc_id, "status": {name: snapshot.status(name, doc_id) for name in snapshot.annotators}})
        else:
            vote_document(result, {name: snapshot.docs[name][doc_id] for name in voters}, scheme)
    if not result.gold:
        raise WorkbenchError(f"no document was confirmed by {min_annotators} annotators or more; nothing to adjudicate")
    return result


def review_records(result: Adjudication) -> list[AnnotatedDoc]:
    """For each document with conflicts, the union of all versions, each item naming who made it.

    Meant as pre-annotations for an adjudicator; `review_notes` says who said what.
    """
    gold = {record.doc_id: record for record in result.gold}
    records = []
    for doc_id, conflicts in sorted(result.conflicts.items()):
        votes = result.votes[doc_id]
        meta = {**gold[doc_id].meta, "review_notes": [describe_conflict(c) for c in conflicts]}
        records.append(build_record(gold[doc_id], votes.entities, votes.relations, meta))
    return records


def resolved_reviews(review: Snapshot) -> list[AnnotatedDoc]:
    """The confirmed records of a pulled review project; a document resolved twice is an error."""
    resolved: dict[str, AnnotatedDoc] = {}
    for name in review.annotators:
        for doc_id, record in sorted(review.docs[name].items()):
            if review.status(name, doc_id) != CONFIRMED:
                continue
            if doc_id in resolved:
                other = resolved[doc_id].meta.get("annotator", "another file")
                raise review.error(f"resolved by both {other} and {name}; keep one", name, doc_id)
            resolved[doc_id] = record
    return [resolved[doc_id] for doc_id in sorted(resolved)]


def apply_review(result: Adjudication, resolved: list[AnnotatedDoc], scheme: LabelScheme) -> None:
    """Replace each reviewed document's gold annotations with the resolved ones.

    Items keep the annotators who made them (none if only the reviewer did);
    the record's adjudication says provenance "review" and who reviewed it.
    """
    position = {record.doc_id: i for i, record in enumerate(result.gold)}
    for record in resolved:
        if record.doc_id not in result.conflicts:
            raise WorkbenchError(
                "not among the documents with conflicts in this adjudication, so it was not sent for review", doc_id=record.doc_id
            )
        gold = result.gold[position[record.doc_id]]
        if record.text != gold.text:
            raise WorkbenchError("the reviewed text differs from the annotators' text", doc_id=record.doc_id)
        votes = result.votes[record.doc_id]
        entities = {(e.start, e.end, e.label): votes.entities.get((e.start, e.end, e.label), []) for e in record.entities}
        relations = {key: votes.relations.get(key, []) for key in relation_items(record, scheme)}
        reviewer = record.meta.get("annotator")
        adjudication = {
            **gold.meta["adjudication"],
            "provenance": "review",
            "reviewer": reviewer,
            "conflicts": 0,
            "resolved_conflicts": len(result.conflicts[record.doc_id]),
        }
        result.gold[position[record.doc_id]] = build_record(gold, entities, relations, {**gold.meta, "adjudication": adjudication})
        result.reviewed[record.doc_id] = reviewer


def conflict_report(result: Adjudication) -> dict:
    """The conflicts as JSON-ready data, per document in doc_id order."""
    return {
        "source": result.provenance,
        "policy": result.policy,
        "min_annotators": result.min_annotators,
        "documents": len(result.gold),
        "conflicts": sum(map(len, result.open_conflicts().values())),
        "per_document": [
            {
                "doc_id": doc_id,
                "annotators": result.votes[doc_id].voters,
                "reviewed": doc_id in result.reviewed,
                "reviewer": result.reviewed.get(doc_id),
                "conflicts": conflicts,
            }
            for doc_id, conflicts in sorted(result.conflicts.items())
        ],
        "skipped": result.skipped,
    }
