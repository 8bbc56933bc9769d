"""Plausibility warnings on annotations that are valid but probably wrong; warnings, because the scheme is the user's.

Three things a reviewer should look at, in any label scheme:

- a span of a proper-name label that starts with a lowercase letter ("region" as LOC);
- the same text labelled differently elsewhere in the same document;
- a proper-name span that contains, as whole words, a text the same file marks with a
  label that is not a proper-name label (a PERSON "President Erdoğan" when "President"
  is a ROLE elsewhere).

Which labels are proper names is passed in; the default is the labels a spaCy
English pipeline treats as names, as far as the scheme has them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from workbench.annotations.validate import Problem
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc, iter_json_lines, record_from_dict
from workbench.errors import WorkbenchError

# spaCy's English NER labels for named things (OntoNotes): people, organizations, places, groups, facilities.
DEFAULT_NAME_LABELS = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC")


@dataclass(frozen=True)
class Finding:
    message: str
    start: int
    end: int


def name_labels_for(scheme: LabelScheme, given: Sequence[str] | None = None) -> frozenset[str]:
    """The proper-name labels to lint: the given ones (each must be in the scheme), else the defaults the scheme has."""
    if given:
        unknown = sorted(set(given) - set(scheme.entities))
        if unknown:
            raise WorkbenchError(f"not entity labels of the scheme {scheme.name!r}: {', '.join(unknown)}")
        return frozenset(given)
    return frozenset(label for label in DEFAULT_NAME_LABELS if label in scheme.entities)


def non_name_texts(records: Iterable[AnnotatedDoc], name_labels: frozenset[str]) -> dict[str, str]:
    """Every span text that a file marks with a label outside the names, and that label (the first seen)."""
    texts: dict[str, str] = {}
    for record in records:
        for ent in record.entities:
            surface = record.text[ent.start : ent.end].strip()
            if ent.label not in name_labels and surface:
                texts.setdefault(surface, ent.label)
    return texts


def lint_record(record: AnnotatedDoc, name_labels: frozenset[str], other_texts: dict[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    spans = [e for e in record.entities if 0 <= e.start < e.end <= len(record.text)]
    by_text: dict[str, list] = defaultdict(list)
    for ent in spans:
        surface = record.text[ent.start : ent.end]
        by_text[surface].append(ent)
        if ent.label in name_labels and surface[:1].islower():
            findings.append(Finding(f"{ent.label} span {surface!r} starts lowercase (a name usually does not)", ent.start, ent.end))
        if ent.label in name_labels:
            for other, label in sorted(other_texts.items()):
                if other != surface and re.search(rf"(?<!\w){re.escape(other)}(?!\w)", surface):
                    findings.append(Finding(f"{ent.label} span {surface!r} contains {other!r}, which this file marks as {label}", ent.start, ent.end))
    for surface, ents in sorted(by_text.items()):
        labels = sorted({e.label for e in ents})
        if len(labels) > 1:
            where = ", ".join(f"{e.label} at {e.start}-{e.end}" for e in sorted(ents, key=lambda e: e.start))
            first = min(ents, key=lambda e: e.start)
            findings.append(Finding(f"{surface!r} is labelled differently in this document: {where}", first.start, first.end))
    return findings


def lint_file(path: str | Path, name_labels: frozenset[str], shown_as: str | None = None) -> list[Problem]:
    """Warnings for one file (one annotator's, or a gold file); unreadable lines are left to validation."""
    located: list[tuple[int, AnnotatedDoc]] = []
    for number, obj, problem in iter_json_lines(path):
        if problem:
            continue
        try:
            located.append((number, record_from_dict(obj)))
        except WorkbenchError:
            continue
    others = non_name_texts((record for _, record in located), name_labels)
    return [
        Problem(shown_as or str(path), number, record.doc_id, f"warning: {finding.message}", finding.start, finding.end)
        for number, record in located
        for finding in lint_record(record, name_labels, others)
    ]
