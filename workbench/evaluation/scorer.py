"""Strict span scoring: a prediction counts only with the same start, end and label as a gold span."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Hashable, Iterable

from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


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
    def precision(self) -> float | None:
        """None when undefined: nothing was predicted (TP + FP = 0), which is not a precision of 0."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """None when undefined: there is nothing to find (TP + FN = 0)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        """2TP / (2TP + FP + FN): the harmonic mean of P and R, 0 when TP = 0, undefined only with no items at all."""
        total = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / total if total else None

    def to_dict(self) -> dict:
        return {
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
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
        """The mean over labels with gold items of each figure; a label whose figure is undefined is left out of it.

        (A label with gold but no prediction has an undefined precision: it counts in the recall
        and F1 means, not in the precision mean.) None where no label has the figure.
        """
        names = sorted(labels) if labels is not None else sorted(self.per_label)
        names = [n for n in names if self.counts(n).tp + self.counts(n).fn > 0]
        macro = {}
        for metric in ("precision", "recall", "f1"):
            values = [getattr(self.counts(n), metric) for n in names]
            values = [v for v in values if v is not None]
            macro[metric] = round(sum(values) / len(values), 6) if values else None
        return macro

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


def relation_items(record: AnnotatedDoc, scheme: LabelScheme) -> list[tuple[tuple, str]]:
    """Strict relation keys: both argument spans with their labels, and the type.

    Symmetric types are put in text order (LabelScheme.ordered), so their direction does not count.
    """
    by_id = record.entity_by_id()
    items = []
    for rel in record.relations:
        head, tail = by_id.get(rel.head), by_id.get(rel.tail)
        if head is None or tail is None:
            continue
        first, second = scheme.ordered(rel.type, (head.start, head.end, head.label), (tail.start, tail.end, tail.label))
        items.append(((first, second), rel.type))
    return items
