"""Strict relation scoring: a predicted relation counts only with the same head span, tail span and type as gold.

Spans are compared by character offsets, so predicted and reference docs may be tokenized
differently; symmetric types are compared in canonical order. A gold relation the
component never saw as a candidate is simply missed: a false negative.
"""

from __future__ import annotations

from typing import Iterable

from spacy.tokens import Doc
from spacy.training import Example

from workbench.docs import relation_spans
from workbench.evaluation.scorer import LabelledScores, score_items


def relation_items(doc: Doc, symmetric: set[str]) -> list[tuple[tuple, str]]:
    """((head chars, tail chars), label) per relation, for `score_items`."""
    items = []
    for head, tail, label, _ in relation_spans(doc):
        first, second = (head.start_char, head.end_char), (tail.start_char, tail.end_char)
        if label in symmetric and second < first:
            first, second = second, first
        items.append(((first, second), label))
    return items


def score_relations(examples: Iterable[Example], symmetric: set[str], labels: Iterable[str] = ()) -> dict:
    """rel_micro_p/r/f (what `spacy train` selects on) and rel_per_type {type: {p, r, f}}."""
    scores = LabelledScores()
    for label in labels:
        scores.counts(label)
    for eg in examples:
        score_items(relation_items(eg.reference, symmetric), relation_items(eg.predicted, symmetric), scores)
    micro = scores.micro()
    return {
        "rel_micro_p": micro.precision,
        "rel_micro_r": micro.recall,
        "rel_micro_f": micro.f1,
        "rel_per_type": {
            name: {"p": counts.precision, "r": counts.recall, "f": counts.f1}
            for name, counts in sorted(scores.per_label.items())
        },
    }
