"""Strict relation scoring: a predicted relation counts only with the same head span, tail span and type as gold.

Relations are compared as `workbench evaluate` compares them (metrics.relation_items):
argument spans by character offsets and labels, symmetric types in text order. A gold relation the
component never saw as a candidate is simply missed: a false negative.
"""

from __future__ import annotations

from typing import Iterable

from spacy.training import Example

from workbench.docs import doc_to_record
from workbench.labels import LabelScheme
from workbench.metrics import LabelledScores, or_zero, relation_items, score_items


def score_relations(examples: Iterable[Example], scheme: LabelScheme) -> dict:
    """rel_micro_p/r/f (what `spacy train` selects on) and rel_per_type {type: {p, r, f}}."""
    scores = LabelledScores()
    for label in scheme.relation_types:
        scores.counts(label)
    for eg in examples:
        score_items(relation_items(doc_to_record(eg.reference), scheme), relation_items(doc_to_record(eg.predicted), scheme), scores)
    micro = scores.micro()
    # spaCy's training loop weighs every score, so an undefined one is a number here.
    return {
        "rel_micro_p": or_zero(micro.precision),
        "rel_micro_r": or_zero(micro.recall),
        "rel_micro_f": or_zero(micro.f1),
        "rel_per_type": {
            name: {"p": or_zero(counts.precision), "r": or_zero(counts.recall), "f": or_zero(counts.f1)}
            for name, counts in sorted(scores.per_label.items())
        },
    }
