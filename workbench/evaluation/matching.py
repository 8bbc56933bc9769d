"""Entity spans beyond strict matching: SemEval 2013 schemes, error classes and a label confusion matrix.

The SemEval schemes follow `nervaluate`'s definitions (a test checks our counts against it):
  strict   - same boundaries and label: correct; any other overlap: incorrect
  exact    - same boundaries, whatever the label: correct; other overlaps: incorrect
  partial  - same boundaries: correct; other overlaps: partial (half credit), label ignored
  ent_type - overlap with the same label: correct; overlap with another label: incorrect
A prediction overlapping no gold span is spurious, a gold span overlapped by no prediction missed.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, NamedTuple

SCHEMES = ("strict", "exact", "partial", "ent_type")
NONE = "none"
FP_CLASSES = ("boundary", "label", "boundary+label", "spurious")
FN_CLASSES = ("boundary", "label", "boundary+label", "missed")


class Span(NamedTuple):
    start: int
    end: int  # exclusive
    label: str

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end

    def same_bounds(self, other: "Span") -> bool:
        return self.start == other.start and self.end == other.end


def _strict_rank(gold: Span, pred: Span):
    return 0 if gold == pred else 1


def _bounds_rank(gold: Span, pred: Span):
    return 0 if gold.same_bounds(pred) else 1


def _type_rank(gold: Span, pred: Span):
    # Among same-label overlaps the closest boundaries win, as in nervaluate.
    if gold.label == pred.label:
        return (0, abs(gold.start - pred.start) + abs(gold.end - pred.end))
    return (1, 0)


RANKS: dict[str, Callable] = {"strict": _strict_rank, "exact": _bounds_rank, "partial": _bounds_rank, "ent_type": _type_rank}


def align(gold: list[Span], pred: list[Span], rank: Callable) -> list[tuple[int | None, int | None]]:
    """One-to-one pairs (gold index, pred index) of overlapping spans; None where a span has no partner.

    Predictions take, in text order, the best-ranked unmatched overlapping gold span (the
    earliest on a tie): the same greedy matching as nervaluate, so both count alike.
    """
    taken: dict[int, int] = {}
    pairs = []
    for j, p in enumerate(pred):
        options = [(rank(g, p), i) for i, g in enumerate(gold) if i not in taken and g.overlaps(p)]
        if options:
            i = min(options)[1]
            taken[i] = j
            pairs.append((i, j))
        else:
            pairs.append((None, j))
    pairs += [(i, None) for i in range(len(gold)) if i not in taken]
    return pairs


def _outcome(scheme: str, gold: Span | None, pred: Span | None) -> str:
    if gold is None:
        return "spurious"
    if pred is None:
        return "missed"
    if scheme == "strict":
        return "correct" if gold == pred else "incorrect"
    if scheme == "exact":
        return "correct" if gold.same_bounds(pred) else "incorrect"
    if scheme == "partial":
        return "correct" if gold.same_bounds(pred) else "partial"
    return "correct" if gold.label == pred.label else "incorrect"


def scheme_counts(gold: list[Span], pred: list[Span], scheme: str) -> Counter:
    """correct/incorrect/partial/missed/spurious counts of one document under one scheme."""
    gold, pred = sorted(gold), sorted(pred)
    counts = Counter({name: 0 for name in ("correct", "incorrect", "partial", "missed", "spurious")})
    for i, j in align(gold, pred, RANKS[scheme]):
        counts[_outcome(scheme, None if i is None else gold[i], None if j is None else pred[j])] += 1
    return counts


def scheme_scores(counts: Counter, scheme: str) -> dict:
    """nervaluate's precision and recall: partial matches earn half credit in the partial scheme."""
    actual = counts["correct"] + counts["incorrect"] + counts["partial"] + counts["spurious"]
    possible = counts["correct"] + counts["incorrect"] + counts["partial"] + counts["missed"]
    credit = counts["correct"] + (0.5 * counts["partial"] if scheme in ("partial", "ent_type") else 0)
    precision = credit / actual if actual else 0.0
    recall = credit / possible if possible else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {**counts, "precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6)}


def semeval_schemes(docs: Iterable[tuple[list[Span], list[Span]]], labels: Iterable[str]) -> dict:
    """{scheme: {"micro": scores, "per_label": {label: scores}}} over (gold, pred) span lists per document.

    Per label, as in nervaluate, both sides are first cut down to that label, so a label
    error counts as spurious for one label and missed for the other.
    """
    docs = list(docs)
    labels = sorted(labels)
    result = {}
    for scheme in SCHEMES:
        micro, per_label = Counter(), {label: Counter() for label in labels}
        for gold, pred in docs:
            micro.update(scheme_counts(gold, pred, scheme))
            for label in labels:
                per_label[label].update(
                    scheme_counts([s for s in gold if s.label == label], [s for s in pred if s.label == label], scheme)
                )
        result[scheme] = {
            "micro": scheme_scores(micro, scheme),
            "per_label": {label: scheme_scores(per_label[label], scheme) for label in labels},
        }
    return result


def error_class(span: Span, others: list[Span], unmatched: str) -> str:
    """Why a strict false positive (others = gold) or false negative (others = predictions) is wrong."""
    overlapping = [o for o in others if o.overlaps(span)]
    if any(o.same_bounds(span) for o in overlapping):
        return "label"
    if any(o.label == span.label for o in overlapping):
        return "boundary"
    if overlapping:
        return "boundary+label"
    return unmatched


def confusion_matrix(docs: Iterable[tuple[list[Span], list[Span]]], labels: Iterable[str]) -> dict:
    """Gold label (rows) against predicted label (columns) over aligned spans, with a "none" row and column.

    Spans are paired as in the ent_type scheme: a prediction takes an overlapping gold span,
    one with its own label first. A gold span with no partner lands in the "none" column,
    a prediction with no partner in the "none" row.
    """
    names = sorted(labels)
    counts: Counter = Counter()
    for gold, pred in docs:
        gold, pred = sorted(gold), sorted(pred)
        for i, j in align(gold, pred, _type_rank):
            counts[(NONE if i is None else gold[i].label, NONE if j is None else pred[j].label)] += 1
    seen = {label for pair in counts for label in pair}
    names += sorted(seen - set(names) - {NONE})
    names.append(NONE)
    return {
        "labels": names,
        "rows": "gold",
        "columns": "predicted",
        "matrix": [[counts[(g, p)] for p in names] for g in names],
    }
