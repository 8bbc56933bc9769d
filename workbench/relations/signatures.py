"""Relation signatures as plain data: which entity labels each relation type joins, and in which order.

The component keeps signatures in its serialised cfg (not a path to labels.yml), so a
trained pipeline loads anywhere. Sources, in order of preference: an explicit dict,
a label config file, or what the gold relations of the training data show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from spacy.tokens import Doc

from workbench.docs import relation_spans


@dataclass(frozen=True)
class Signature:
    label: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    symmetric: bool = False

    def allows(self, head_label: str, tail_label: str, head_first: bool) -> bool:
        """Whether the ordered pair (head, tail) can carry this relation.

        A symmetric relation is scored only once per pair, in the canonical order
        (head = the earlier entity), whichever of its labels comes first.
        """
        forward = head_label in self.head and tail_label in self.tail
        if not self.symmetric:
            return forward
        backward = tail_label in self.head and head_label in self.tail
        return head_first and (forward or backward)

    def to_dict(self) -> dict:
        return {"head": list(self.head), "tail": list(self.tail), "symmetric": self.symmetric}


def signatures_from_dict(data: dict) -> dict[str, Signature]:
    """{type: {"head": [...], "tail": [...], "symmetric": bool}} -> Signatures, in the given order."""
    return {
        str(name): Signature(str(name), tuple(spec["head"]), tuple(spec["tail"]), bool(spec.get("symmetric", False)))
        for name, spec in data.items()
    }


def signatures_to_dict(signatures: dict[str, Signature]) -> dict:
    return {name: sig.to_dict() for name, sig in signatures.items()}


def signatures_from_labels_file(path: str | Path) -> dict[str, Signature]:
    # Imported here: only initialisation reads label files, never spacy.load.
    from workbench.labels import load_labels

    scheme = load_labels(path)
    return {
        name: Signature(name, tuple(rel.head), tuple(rel.tail), rel.symmetric) for name, rel in scheme.relations.items()
    }


def signatures_from_docs(docs: Iterable[Doc]) -> dict[str, Signature]:
    """The label pairs seen with each gold relation type; symmetry cannot be seen in data, so none is assumed."""
    heads: dict[str, set[str]] = {}
    tails: dict[str, set[str]] = {}
    for doc in docs:
        for head, tail, label, _ in relation_spans(doc):
            heads.setdefault(label, set()).add(head.label_)
            tails.setdefault(label, set()).add(tail.label_)
    return {name: Signature(name, tuple(sorted(heads[name])), tuple(sorted(tails[name]))) for name in sorted(heads)}


def symmetric_labels(signatures: dict[str, Signature]) -> set[str]:
    return {name for name, sig in signatures.items() if sig.symmetric}


def canonical(head: tuple[int, int], tail: tuple[int, int], label: str, symmetric: set[str]):
    """One key per relation: a symmetric relation's arguments are put in text order."""
    head, tail = tuple(head), tuple(tail)
    if label in symmetric and tail < head:
        head, tail = tail, head
    return head, tail, label
