"""Annotation statistics: what an annotation set holds, per corpus split.

Entities per label and relations per type per split, documents without
annotations, span lengths in tokens, and relation distances: the tokens between
the two argument spans, and whether they lie in different sentences. A record's
split is its "split" key, else its entry in the corpus lock file, else "unsplit".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from workbench.docs import make_gold_nlp
from workbench.errors import WorkbenchError
from workbench.records import AnnotatedDoc, iter_records

UNSPLIT = "unsplit"
SPLIT_ORDER = ("train", "dev", "test")


@dataclass
class AnnotationStats:
    documents: Counter = field(default_factory=Counter)  # split -> documents
    empty: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # split -> doc_ids
    entities: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # label -> split -> n
    relations: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # type -> split -> n
    span_tokens: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # label -> length -> n
    distances: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # type -> tokens between -> n
    cross_sentence: Counter = field(default_factory=Counter)  # type -> relations across sentences

    def splits(self) -> list[str]:
        known = [s for s in SPLIT_ORDER if s in self.documents]
        other = sorted(s for s in self.documents if s not in SPLIT_ORDER and s != UNSPLIT)
        return known + other + ([UNSPLIT] if UNSPLIT in self.documents else [])

    def to_dict(self, labels: list[str] = (), relation_types: list[str] = ()) -> dict:
        """JSON-ready; labels and types of the scheme show up even with no annotation."""
        splits = self.splits()

        def per_split(counts: Counter) -> dict:
            return {**{s: counts[s] for s in splits}, "total": sum(counts.values())}

        def histogram(counts: Counter) -> dict:
            return {str(k): counts[k] for k in sorted(counts)}

        label_names = sorted(set(labels) | set(self.entities))
        type_names = sorted(set(relation_types) | set(self.relations))
        return {
            "splits": splits,
            "documents": per_split(self.documents),
            "without_annotations": {s: sorted(self.empty.get(s, [])) for s in splits},
            "entities": {l: per_split(self.entities.get(l, Counter())) for l in label_names},
            "relations": {t: per_split(self.relations.get(t, Counter())) for t in type_names},
            "span_length_tokens": {l: histogram(self.span_tokens.get(l, Counter())) for l in label_names},
            "relation_distance_tokens": {t: histogram(self.distances.get(t, Counter())) for t in type_names},
            "cross_sentence": {t: self.cross_sentence[t] for t in type_names},
        }


def split_of(record: AnnotatedDoc, assignments: dict[str, str]) -> str:
    split = record.meta.get("split")
    if isinstance(split, str) and split:
        return split
    return assignments.get(record.doc_id, UNSPLIT)


def tokens_between(a, b) -> int:
    """Tokens strictly between two spans; 0 when they touch or overlap."""
    if a.end <= b.start:
        return b.start - a.end
    if b.end <= a.start:
        return a.start - b.end
    return 0


def add_record(stats: AnnotationStats, record: AnnotatedDoc, split: str, nlp) -> None:
    stats.documents[split] += 1
    if not record.entities and not record.relations:
        stats.empty[split].append(record.doc_id)
        return
    doc = nlp(record.text)
    spans = {}
    for ent in record.entities:
        span = doc.char_span(ent.start, ent.end, alignment_mode="expand")
        if span is None or not len(span):
            raise WorkbenchError(f"entity {ent.id!r} at {ent.start}-{ent.end} covers no token")
        spans[ent.id] = span
        stats.entities[ent.label][split] += 1
        stats.span_tokens[ent.label][len(span)] += 1
    for rel in record.relations:
        if rel.head not in spans or rel.tail not in spans:
            raise WorkbenchError(f"relation {rel.id!r} points at a missing entity")
        head, tail = spans[rel.head], spans[rel.tail]
        stats.relations[rel.type][split] += 1
        stats.distances[rel.type][tokens_between(head, tail)] += 1
        if doc[head.start].sent.start != doc[tail.start].sent.start:
            stats.cross_sentence[rel.type] += 1


def collect_stats(paths: list[str | Path], assignments: dict[str, str], nlp=None) -> AnnotationStats:
    """Statistics of canonical JSONL files; `nlp` must set sentences (default: blank English + sentencizer)."""

    nlp = nlp or make_gold_nlp()
    stats = AnnotationStats()
    for path in paths:
        for number, record in iter_records(path):
            try:
                add_record(stats, record, split_of(record, assignments), nlp)
            except WorkbenchError as exc:
                raise WorkbenchError(exc.message, path=path, line=number, doc_id=record.doc_id) from None
    return stats
