"""The figures every stage reports: strict counts and their P/R/F1, intervals over documents, and how figures are written.

One convention for an undefined figure, everywhere: precision with nothing predicted
(TP + FP = 0) and recall with nothing to find (TP + FN = 0) are None, not 0; F1, as
2TP / (2TP + FP + FN), is 0 when TP = 0 and None only with no items at all. Code that
must have a number (spaCy's training loop weighs every score, a threshold search ranks
cuts, a curve plots a point) says so with `or_zero`.

Intervals resample documents, not spans, because errors cluster by document (one
article's odd style, one unusual name repeated): each bootstrap sample draws as many
documents as were evaluated, with replacement, from a seeded generator; P/R/F1 are
recomputed from the summed counts (micro and per label), and the interval is the
samples' 2.5th to 97.5th percentile (at 95%). Samples in which a figure is undefined are
left out of that figure's interval.

Figures are written in one way: scores in % to one place (`pct`, `pct_ci`, `percent`), to
three places in sentences (`score`), and tables in Markdown (`markdown_table`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Hashable, Iterable

import numpy

if TYPE_CHECKING:  # types only: the figures need no label scheme or record code, so `workbench --help` does not load them
    from workbench.labels import LabelScheme
    from workbench.records import AnnotatedDoc

METRICS = ("precision", "recall", "f1")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def or_zero(value: float | None) -> float:
    """An undefined figure as 0.0, for code that must have a number (spaCy's PRFScore does the same)."""
    return 0.0 if value is None else value


# --- counts ----------------------------------------------------------------------------------


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

    def figures(self) -> dict:
        """{precision, recall, f1}, rounded to 6 places, None where undefined."""
        return {"precision": _round(self.precision), "recall": _round(self.recall), "f1": _round(self.f1)}

    def to_dict(self) -> dict:
        return {**self.figures(), "tp": self.tp, "fp": self.fp, "fn": self.fn}


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
        for metric in METRICS:
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


# --- intervals -------------------------------------------------------------------------------


# Fewer documents than this get no interval. Every resample's figure is a weighted mean of the
# documents' own figures, so a percentile interval never reaches past the lowest and highest of
# them, and holds the true figure at most as often as the documents straddle it: at most
# 1 - 2 * 0.5**n of the time (50% with 2 documents, 75% with 3, 94% with 5), whatever the
# documents. Above that bound it is still too narrow, by about sqrt((n - 1) / n) and the t
# against the normal quantile (Hesterberg 2015, "What teachers should know about the bootstrap"):
# `workbench benchmark bootstrap-coverage` measures a nominal 95% interval holding the true
# figure about 90% of the time with 10 documents (docs/methods/intervals.md).
MIN_INTERVAL_DOCUMENTS = 10
# `workbench compare` tells no change on runs of fewer documents than evaluate needs for an interval at all.
MIN_DOCUMENTS = MIN_INTERVAL_DOCUMENTS


@dataclass(frozen=True)
class BootstrapSettings:
    samples: int = 1000
    seed: int = 0
    level: float = 0.95
    min_documents: int = MIN_INTERVAL_DOCUMENTS

    def describe(self, documents: int) -> dict:
        usable = self.usable(documents)
        if not self.samples:
            note = "no intervals: bootstrap turned off"
        elif not usable:
            note = (
                f"no intervals: they would rest on {documents} document{'' if documents == 1 else 's'}, fewer than "
                f"{self.min_documents}, and a bootstrap over so few documents is too narrow to read as a "
                f"{round(100 * self.level)}% interval"
            )
        else:
            note = f"percentile intervals from {self.samples} resamples of the {documents} documents"
        return {
            "method": "bootstrap over documents, percentile",
            "samples": self.samples,
            "seed": self.seed,
            "level": self.level,
            "documents": documents,
            "min_documents": self.min_documents,
            "intervals": usable,
            "note": note,
        }

    def usable(self, documents: int) -> bool:
        # Resampling one document cannot vary, whatever the minimum.
        return self.samples > 0 and documents >= max(2, self.min_documents)


def _count_array(per_doc: list[LabelledScores], labels: list[str]) -> numpy.ndarray:
    """(documents, labels, 3) array of tp, fp, fn."""
    return numpy.array(
        [[[doc.per_label[l].tp, doc.per_label[l].fp, doc.per_label[l].fn] if l in doc.per_label else [0, 0, 0] for l in labels] for doc in per_doc],
        dtype=float,
    ).reshape(len(per_doc), len(labels), 3)


def _ratio(num: numpy.ndarray, den: numpy.ndarray) -> numpy.ndarray:
    out = numpy.full(num.shape, numpy.nan)
    numpy.divide(num, den, out=out, where=den > 0)
    return out


def _interval(values: numpy.ndarray, level: float) -> dict | None:
    values = values[~numpy.isnan(values)]
    if not len(values):
        return None
    tail = 100 * (1 - level) / 2
    lo, hi = numpy.percentile(values, [tail, 100 - tail])
    return {"lo": round(float(lo), 6), "hi": round(float(hi), 6)}


def _intervals(counts: numpy.ndarray, level: float) -> dict:
    """counts: (samples, 3) tp/fp/fn -> {metric: {lo, hi} or None}, by Counts' definitions."""
    tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 2]
    figures = {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "f1": _ratio(2 * tp, 2 * tp + fp + fn)}
    return {name: _interval(values, level) for name, values in figures.items()}


def bootstrap_intervals(per_doc: list[LabelledScores], labels: list[str], settings: BootstrapSettings) -> dict | None:
    """{"micro": {metric: {lo, hi}}, "per_label": {label: {...}}}, or None when intervals cannot be had."""
    if not settings.usable(len(per_doc)):
        return None
    labels = sorted(set(labels) | {l for doc in per_doc for l in doc.per_label})
    counts = _count_array(per_doc, labels)
    rng = numpy.random.default_rng(settings.seed)
    n_docs = len(per_doc)
    draws = rng.integers(0, n_docs, size=(settings.samples, n_docs))
    # How often each document was drawn in each sample: sums become one matrix product.
    weights = numpy.zeros((settings.samples, n_docs))
    numpy.add.at(weights, (numpy.arange(settings.samples)[:, None], draws), 1)
    sampled = (weights @ counts.reshape(n_docs, -1)).reshape(settings.samples, len(labels), 3)
    return {
        "micro": _intervals(sampled.sum(axis=1), settings.level),
        "per_label": {label: _intervals(sampled[:, k, :], settings.level) for k, label in enumerate(labels)},
    }


def task_metrics(per_doc: list[LabelledScores], labels: list[str], bootstrap: BootstrapSettings) -> dict:
    """The summed counts' micro/macro/per-label scores, and their intervals under "ci" (None if none)."""
    return {**LabelledScores.total(per_doc).to_dict(labels), "ci": bootstrap_intervals(per_doc, labels, bootstrap)}


# --- writing figures -------------------------------------------------------------------------

# An undefined figure in a table cell.
UNDEFINED = "–"


def pct(value: float | None, undefined: str = UNDEFINED) -> str:
    """A score in % to one place, e.g. 67.6; `undefined` where it is undefined."""
    return undefined if value is None else f"{100 * value:.1f}"


def pct_ci(value: float | None, interval: dict | None) -> str:
    """A score with its interval, e.g. 67.6 (55.1–78.0); the score alone when there is no interval."""
    if value is None or not interval:
        return pct(value)
    return f"{pct(value)} ({pct(interval['lo'])}–{pct(interval['hi'])})"


def percent(value: float | None) -> str:
    """A share in % with its sign, e.g. 92.9%; – where it is undefined (nothing to share)."""
    return UNDEFINED if value is None else f"{pct(value)}%"


def score(value: float | None, undefined: str = "undefined") -> str:
    """A score to three places, as sentences give it; `undefined` where it is undefined."""
    return undefined if value is None else f"{value:.3f}"


def table_cell(text: object) -> str:
    """Text made safe for one Markdown table cell: whitespace runs as one space, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown_table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """The lines of a Markdown table; `align` has one l or r per column (left where it has none)."""
    rule = ["---:" if a == "r" else "---" for a in align.ljust(len(header), "l")]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]
