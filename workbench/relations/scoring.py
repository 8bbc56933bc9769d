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
from workbench.labels import LabelScheme


def _number(value: float | None) -> float:
    """spaCy's training loop weighs every score, so an undefined one is 0.0 here (as spaCy's own PRFScore has it)."""
    return 0.0 if value is None else value


def score_relations(examples: Iterable[Example], scheme: LabelScheme) -> dict:
    """rel_micro_p/r/f (what `spacy train` selects on) and rel_per_type {type: {p, r, f}}."""
    scores = LabelledScores()
    for label in scheme.relation_types:
        scores.counts(label)
    for eg in examples:
        score_items(relation_items(doc_to_record(eg.reference), scheme), relation_items(doc_to_record(eg.predicted), scheme), scores)
    micro = scores.micro()
    return {
        "rel_micro_p": _number(micro.precision),
        "rel_micro_r": _number(micro.recall),
        "rel_micro_f": _number(micro.f1),
        "rel_per_type": {
            name: {"p": _number(counts.precision), "r": _number(counts.recall), "f": _number(counts.f1)}
            for name, counts in sorted(scores.per_label.items())
        },
    }
