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
from workbench.errors import WorkbenchError
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc, iter_json_lines, record_from_dict

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


@dataclass(frozen=True)
class OtherLabelTexts:
    """The span texts a file marks with labels that are not names, found inside a name in one regex pass."""

    label_of: dict[str, str]
    pattern: re.Pattern | None

    @classmethod
    def of(cls, records: Iterable[AnnotatedDoc], name_labels: frozenset[str]) -> "OtherLabelTexts":
        label_of: dict[str, str] = {}
        for record in records:
            for ent in record.entities:
                surface = record.text[ent.start : ent.end].strip()
                if ent.label not in name_labels and surface:
                    label_of.setdefault(surface, ent.label)
        # Longest first, so "Foreign Minister" is found before "Minister"; whole words only.
        alternatives = "|".join(re.escape(t) for t in sorted(label_of, key=lambda t: (-len(t), t)))
        return cls(label_of, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if label_of else None)

    def inside(self, surface: str) -> list[str]:
        if self.pattern is None:
            return []
        return [m.group(0) for m in self.pattern.finditer(surface) if m.group(0) != surface]


def lint_record(record: AnnotatedDoc, name_labels: frozenset[str], others: OtherLabelTexts) -> list[Finding]:
    findings: list[Finding] = []
    by_text: dict[str, list] = defaultdict(list)
    for ent in record.entities:
        if not 0 <= ent.start < ent.end <= len(record.text):
            continue  # validation reports it
        surface = record.text[ent.start : ent.end]
        by_text[surface].append(ent)
        if ent.label not in name_labels:
            continue
        if surface[:1].islower():
            findings.append(Finding(f"{ent.label} span {surface!r} starts lowercase (a name usually does not)", ent.start, ent.end))
        for other in others.inside(surface):
            findings.append(
                Finding(f"{ent.label} span {surface!r} contains {other!r}, which this file marks as {others.label_of[other]}", ent.start, ent.end)
            )
    for surface, ents in sorted(by_text.items()):
        if len({e.label for e in ents}) > 1:
            ents = sorted(ents, key=lambda e: (e.start, e.end))
            where = ", ".join(f"{e.label} at {e.start}-{e.end}" for e in ents)
            findings.append(Finding(f"{surface!r} is labelled differently in this document: {where}", ents[0].start, ents[0].end))
    return findings


def lint_file(path: str | Path, name_labels: frozenset[str]) -> list[Problem]:
    """Warnings for one file (one annotator's, or a gold file); unreadable lines are left to validation."""
    located: list[tuple[int, AnnotatedDoc]] = []
    for number, obj, problem in iter_json_lines(path):
        if problem:
            continue
        try:
            located.append((number, record_from_dict(obj)))
        except WorkbenchError:
            continue
    others = OtherLabelTexts.of((record for _, record in located), name_labels)
    return [
        Problem(str(path), number, record.doc_id, f"warning: {finding.message}", finding.start, finding.end)
        for number, record in located
        for finding in lint_record(record, name_labels, others)
    ]
