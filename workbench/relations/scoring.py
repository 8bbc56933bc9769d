"""Strict relation scoring: a predicted relation counts only with the same head span, tail span and type as gold.

Relations are compared as `workbench evaluate` compares them (evaluation.scorer.relation_items):
argument spans by character offsets and labels, symmetric types in text order. A gold relation the
component never saw as a candidate is simply missed: a false negative.
"""

from __future__ import annotations

from typing import Iterable

from spacy.training import Example

from workbench.docs import doc_to_record
from workbench.evaluation.scorer import LabelledScores, relation_items, score_items


def score_relations(examples: Iterable[Example], symmetric: set[str], labels: Iterable[str] = ()) -> dict:
    """rel_micro_p/r/f (what `spacy train` selects on) and rel_per_type {type: {p, r, f}}."""
    scores = LabelledScores()
    for label in labels:
        scores.counts(label)
    for eg in examples:
        score_items(relation_items(doc_to_record(eg.reference), symmetric), relation_items(doc_to_record(eg.predicted), symmetric), scores)
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
