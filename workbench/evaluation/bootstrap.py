"""Confidence intervals by resampling documents: how much a score would move with other held-out documents.

Each bootstrap sample draws as many documents as were evaluated, with replacement, from a
seeded generator; precision, recall and F1 are recomputed from the summed counts (micro and
per label), and the interval is the sample's 2.5th to 97.5th percentile (at 95%). Samples in
which a figure is undefined (no prediction, or no gold span, of that label) are left out of
that figure's interval. Documents, not spans, are resampled, because errors cluster by
document (one article's odd style, one unusual name repeated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

from workbench.evaluation.scorer import LabelledScores

METRICS = ("precision", "recall", "f1")


# Fewer documents than this get no interval. Every resample's figure is a weighted mean of the
# documents' own figures, so a percentile interval never reaches past the lowest and highest of
# them, and holds the true figure at most as often as the documents straddle it: at most
# 1 - 2 * 0.5**n of the time (50% with 2 documents, 75% with 3, 94% with 5), whatever the
# documents. Above that bound it is still too narrow, by about sqrt((n - 1) / n) and the t
# against the normal quantile (Hesterberg 2015, "What teachers should know about the bootstrap"):
# `workbench benchmark bootstrap-coverage` measures a nominal 95% interval holding the true
# figure about 90% of the time with 10 documents (docs/methods/intervals.md).
MIN_INTERVAL_DOCUMENTS = 10


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
    """counts: (samples, 3) tp/fp/fn -> {metric: {lo, hi} or None}."""
    tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 2]
    figures = {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        # 2tp / (2tp + fp + fn) is the harmonic mean of P and R, and 0 (not undefined) when tp = 0.
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }
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
