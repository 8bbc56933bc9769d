"""Strict span scoring: a prediction counts only with the same start, end and label as a gold span."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Hashable, Iterable

from workbench.records import AnnotatedDoc


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: "Counts") -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "f1": round(self.f1, 6),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class LabelledScores:
    """Counts per label, with micro and macro averages."""

    per_label: dict[str, Counts] = field(default_factory=dict)

    def counts(self, label: str) -> Counts:
        return self.per_label.setdefault(label, Counts())

    @classmethod
    def total(cls, parts: Iterable["LabelledScores"]) -> "LabelledScores":
        """The sum of several documents' scores."""
        result = cls()
        for part in parts:
            for label, counts in part.per_label.items():
                result.counts(label).add(counts)
        return result

    def micro(self) -> Counts:
        total = Counts()
        for counts in self.per_label.values():
            total.add(counts)
        return total

    def macro(self, labels: Iterable[str] | None = None) -> dict:
        names = sorted(labels) if labels is not None else sorted(self.per_label)
        names = [n for n in names if self.counts(n).tp + self.counts(n).fn > 0]
        if not names:
            return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        return {
            metric: round(sum(getattr(self.counts(n), metric) for n in names) / len(names), 6)
            for metric in ("precision", "recall", "f1")
        }

    def to_dict(self, labels: Iterable[str] | None = None) -> dict:
        names = sorted(set(labels or []) | set(self.per_label))
        return {
            "micro": self.micro().to_dict(),
            "macro": self.macro(names),
            "per_label": {
                n: {**self.counts(n).to_dict(), "support": self.counts(n).tp + self.counts(n).fn} for n in names
            },
        }


def score_items(gold: Iterable[tuple[Hashable, str]], pred: Iterable[tuple[Hashable, str]], scores: LabelledScores):
    """Add one document's (key, label) items to `scores`; return (true positives, false positives, false negatives).

    Items are multisets: the same key twice must be predicted twice.
    """
    gold_c, pred_c = Counter(gold), Counter(pred)
    tps, fps, fns = [], [], []
    for item in sorted(set(gold_c) | set(pred_c), key=repr):
        both = min(gold_c[item], pred_c[item])
        label = item[1]
        counts = scores.counts(label)
        counts.tp += both
        counts.fp += pred_c[item] - both
        counts.fn += gold_c[item] - both
        tps += [item] * both
        fps += [item] * (pred_c[item] - both)
        fns += [item] * (gold_c[item] - both)
    return tps, fps, fns


def entity_items(record: AnnotatedDoc) -> list[tuple[tuple[int, int], str]]:
    """Strict entity keys: the span, and the label."""
    return [((e.start, e.end), e.label) for e in record.entities]


def relation_items(record: AnnotatedDoc, symmetric: set[str]) -> list[tuple[tuple, str]]:
    """Strict relation keys: both argument spans with their labels, and the type.

    Symmetric types are put in text order, so their direction does not count.
    """
    by_id = record.entity_by_id()
    items = []
    for rel in record.relations:
        head, tail = by_id.get(rel.head), by_id.get(rel.tail)
        if head is None or tail is None:
            continue
        first, second = (head.start, head.end, head.label), (tail.start, tail.end, tail.label)
        if rel.type in symmetric and second < first:
            first, second = second, first
        items.append(((first, second), rel.type))
    return items
