"""Relation signatures learned from data, and the key that identifies one relation.

The component keeps its signatures in its serialised cfg (`LabelScheme.signatures()`),
not a path to labels.yml, so a trained pipeline loads anywhere. Sources, in order of
preference: an explicit dict, a label config file, or what the gold relations of the
training data show (this module).
"""

from __future__ import annotations

from typing import Iterable

from spacy.tokens import Doc

from workbench.docs import relation_spans
from workbench.labels import EntityLabel, LabelScheme, RelationType


def scheme_from_docs(docs: Iterable[Doc]) -> LabelScheme:
    """The label pairs seen with each gold relation type; symmetry cannot be seen in data, so none is assumed."""
    heads: dict[str, set[str]] = {}
    tails: dict[str, set[str]] = {}
    for doc in docs:
        for head, tail, label, _ in relation_spans(doc):
            heads.setdefault(label, set()).add(head.label_)
            tails.setdefault(label, set()).add(tail.label_)
    relations = {name: RelationType(name, tuple(sorted(heads[name])), tuple(sorted(tails[name]))) for name in sorted(heads)}
    labels = sorted(set().union(*heads.values(), *tails.values())) if heads else []
    return LabelScheme("learned", {label: EntityLabel(label) for label in labels}, relations)


def relation_key(scheme: LabelScheme, head, tail, label: str) -> tuple:
    """One hashable key per relation between token spans, symmetric types in text order (LabelScheme.ordered)."""
    head, tail = scheme.ordered(label, tuple(head), tuple(tail))
    return head, tail, label
