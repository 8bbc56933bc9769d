"""The recall ceiling ("reach") of relation extraction: which gold relations the candidate generator can reach at all.

A gold relation is reachable when both its arguments are entity spans of the document and
`generate_candidates` yields the ordered pair with the relation's type allowed. Whatever
the relation model learns, it never predicts the others, so they cap relation recall even on
gold entities. Each unreachable relation is put down to one reason, checked in this order:
an argument is not an entity span, the type's signature rules the pair out, or the two
arguments are in different sentences further apart than `max_distance` tokens.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from spacy.tokens import Doc

from workbench.docs import get_relations, gold_docs, gold_entity_doc, make_gold_nlp
from workbench.labels import LabelScheme
from workbench.metrics import percent
from workbench.relations.candidates import Candidate, generate_candidates, sentence_index
from workbench.relations.signatures import relation_key
from workbench.words import count

# Reason -> what it means, in the order the reasons are checked.
REASONS = {
    "not_an_entity": "an argument is not an entity span of the document",
    "signature": "the type's signature does not allow these argument labels (or the scheme lacks the type)",
    "beyond_window": "the arguments are in different sentences, more than max_distance tokens apart",
    # Only if the candidate generator leaves out a pair for a reason this module does not know.
    "other": "the candidate generator leaves the pair out for another reason",
}


@dataclass(frozen=True)
class Unreachable:
    """One gold relation no candidate covers, and why."""

    doc_id: str
    type: str
    head: str
    tail: str
    reason: str  # a key of REASONS
    distance: int  # tokens strictly between the two arguments
    same_sentence: bool | None  # None: the document has no sentence boundaries

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "type": self.type, "head": self.head, "tail": self.tail,
                "reason": self.reason, "distance": self.distance, "same_sentence": self.same_sentence}


@dataclass(frozen=True)
class TypeReach:
    """Gold relations of one type (or all types), how many are reachable, and why the rest are not."""

    gold: int
    reachable: int
    reasons: dict[str, int]  # reason -> unreachable relations

    @property
    def share(self) -> float | None:
        """Reachable / gold; None with no gold relation (nothing to reach)."""
        return self.reachable / self.gold if self.gold else None

    def to_dict(self) -> dict:
        share = None if self.share is None else round(self.share, 6)
        return {"gold": self.gold, "reachable": self.reachable, "share": share, "unreachable": dict(self.reasons)}

    @classmethod
    def total(cls, rows: Iterable["TypeReach"]) -> "TypeReach":
        """The rows' counts summed: all types of one reach, or one type over several."""
        rows = list(rows)
        reasons = {r: sum(row.reasons[r] for row in rows) for r in REASONS}
        return cls(sum(row.gold for row in rows), sum(row.reachable for row in rows), reasons)


@dataclass(frozen=True)
class Reach:
    """The recall ceiling per relation type and over all types, at one candidate window."""

    max_distance: int
    documents: int
    per_type: dict[str, TypeReach]
    unreachable: tuple[Unreachable, ...] = field(default_factory=tuple)

    @property
    def micro(self) -> TypeReach:
        return TypeReach.total(self.per_type.values())

    def to_dict(self) -> dict:
        return {
            "max_distance": self.max_distance,
            "documents": self.documents,
            "micro": self.micro.to_dict(),
            "per_type": {name: row.to_dict() for name, row in self.per_type.items()},
            "reasons": dict(REASONS),
            "unreachable_relations": [u.to_dict() for u in self.unreachable],
        }

    @classmethod
    def combine(cls, parts: list["Reach"]) -> "Reach":
        """The reach of several document sets at the same window (cross-validation folds), as one."""
        if len({part.max_distance for part in parts}) != 1:
            raise ValueError("reach figures at different max_distance cannot be combined")
        types = list(dict.fromkeys(name for part in parts for name in part.per_type))
        per_type = {name: TypeReach.total(part.per_type[name] for part in parts if name in part.per_type) for name in types}
        unreachable = tuple(u for part in parts for u in part.unreachable)
        return cls(parts[0].max_distance, sum(part.documents for part in parts), per_type, unreachable)


def relation_reach(docs: Iterable[Doc], scheme: LabelScheme, max_distance: int) -> Reach:
    """The reach of the gold relations (doc._.relations) on docs with gold ents and sentence boundaries.

    Every type of the scheme gets a row, also one without gold relations; a gold type the
    scheme lacks gets one too (all of it unreachable: "signature"). A relation listed twice
    in a document counts once, as scoring counts it.
    """
    gold = Counter()
    reachable = Counter()
    reasons: dict[str, Counter] = {}
    unreachable = []
    n_docs = 0
    for doc in docs:
        n_docs += 1
        generated = _candidate_keys(generate_candidates(doc, scheme, max_distance))
        ents = {(ent.start, ent.end): ent.label_ for ent in doc.ents}
        sents = sentence_index(doc)
        for key in dict.fromkeys(relation_key(scheme, r["head"], r["tail"], r["label"]) for r in get_relations(doc)):
            head, tail, label = key
            gold[label] += 1
            if key in generated:
                reachable[label] += 1
                continue
            reason = _why_unreachable(head, tail, label, ents, sents, scheme, max_distance)
            reasons.setdefault(label, Counter())[reason] += 1
            first, second = sorted((head, tail))
            unreachable.append(Unreachable(
                str(doc._.doc_id or ""), label, doc[head[0] : head[1]].text, doc[tail[0] : tail[1]].text, reason,
                max(0, second[0] - first[1]), None if sents is None else sents[head[0]] == sents[tail[0]],
            ))
    types = list(dict.fromkeys([*scheme.relation_types, *gold]))
    per_type = {
        name: TypeReach(gold[name], reachable[name], {r: reasons.get(name, Counter())[r] for r in REASONS}) for name in types
    }
    return Reach(max_distance, n_docs, per_type, tuple(unreachable))


def _candidate_keys(candidates: list[Candidate]) -> set[tuple]:
    return {(tuple(c.head), tuple(c.tail), label) for c in candidates for label in c.allowed}


def _why_unreachable(head, tail, label: str, ents: dict, sents: list[int] | None, scheme: LabelScheme, max_distance: int) -> str:
    if tuple(head) not in ents or tuple(tail) not in ents:
        return "not_an_entity"
    relation = scheme.relations.get(label)
    if relation is None or not relation.allows(ents[tuple(head)], ents[tuple(tail)]):
        return "signature"
    first, second = sorted((tuple(head), tuple(tail)))
    in_one_sentence = sents is not None and sents[first[0]] == sents[second[0]]
    if not in_one_sentence and second[0] - first[1] > max_distance:
        return "beyond_window"
    return "other"


def records_reach(records, scheme: LabelScheme, max_distance: int, lang: str = "en") -> Reach:
    """The reach of canonical gold records, tokenized and split into sentences as `workbench data` does."""
    return relation_reach(gold_docs(records, make_gold_nlp(lang)), scheme, max_distance)


def pipeline_reach(nlp, records) -> Reach:
    """The reach of a trained pipeline's relation component (its scheme and window) on gold records."""
    component = nlp.get_pipe("relation_extractor")
    return relation_reach((gold_entity_doc(nlp, record) for record in records), component.scheme, component.max_distance)


# The reason columns count unreachable relations.
REACH_HEADER = ["type", "gold", "reachable", "share", *(k.replace("_", " ") for k in REASONS)]


def reach_rows(reach: dict) -> list[list[str]]:
    """Rows under REACH_HEADER from `Reach.to_dict()` (what metrics.json keeps): one per type, the micro row last."""
    def row(name: str, r: dict) -> list[str]:
        return [name, str(r["gold"]), str(r["reachable"]), percent(r["share"]), *(str(r["unreachable"][k]) for k in REASONS)]

    return [*(row(name, r) for name, r in reach["per_type"].items()), row("all (micro)", reach["micro"])]


def format_reach(reach: Reach, list_limit: int = 50) -> str:
    """A plain-text table per type, the reasons' meanings, and the unreachable relations (up to list_limit)."""
    rows = [REACH_HEADER, *reach_rows(reach.to_dict())]
    widths = [max(len(row[i]) for row in rows) for i in range(len(REACH_HEADER))]
    lines = [
        f"reach (recall ceiling) of {count(reach.micro.gold, 'gold relation')} in {count(reach.documents, 'document')}, "
        f"max_distance {reach.max_distance} (the last columns count the unreachable ones by reason):"
    ]
    for row in rows:
        lines.append("  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    used = [k for k in REASONS if reach.micro.reasons[k]]
    lines += [f"  {k.replace('_', ' ')}: {REASONS[k]}" for k in used]
    for u in reach.unreachable[:list_limit]:
        where = {True: "same sentence", False: "other sentence", None: "no sentences"}[u.same_sentence]
        lines.append(f"  unreachable {u.type} in {u.doc_id}: {u.head!r} -> {u.tail!r}, {u.reason.replace('_', ' ')} "
                     f"({u.distance} tokens apart, {where})")
    if len(reach.unreachable) > list_limit:
        lines.append(f"  ... and {len(reach.unreachable) - list_limit} more unreachable (--json lists them all)")
    return "\n".join(lines)
