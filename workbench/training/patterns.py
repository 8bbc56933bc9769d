"""Entity patterns for spaCy's span ruler: derived from gold, added from the label config, scored on the gold they came from.

A team with a handful of annotated articles knows more than its statistical NER has
learnt: the titles, names and places it has already marked. From each gold entity of
a label that asks for it (`patterns.from_gold` in the label config) come up to three
patterns:

- a phrase pattern, the span's exact text ("Foreign Minister");
- a token pattern of its lower-case words ("foreign minister" too);
- where the span has a lower-case word followed by capitalised words (a title's
  complement, "Ambassador to Türkiye"), a token pattern with those capitalised words
  as any title-case word ("ambassador to Ankara").

Each pattern is run over the same gold documents it came from and keeps its counts:
`matched` (spans it matches) and `right` (of those, spans that are a gold entity of
its label, same boundaries). Only patterns right at least `min_precision` of the time
are kept. A label config's own patterns (`patterns.add`) are scored the same way and
kept whatever their precision: the team said so.

The span ruler that applies them is configured in the NER config (`configs/ner.cfg`),
before or after the NER; `workbench.entity_patterns.v1` derives the patterns there from
the training DocBin at initialize, so a model's patterns come only from what it trains on.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import spacy
from spacy.lang.en import English
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import registry

from workbench.annotations.validate import check_gold
from workbench.corpus.store import Corpus
from workbench.docs import gold_docs, make_gold_nlp, read_docbin
from workbench.errors import WorkbenchError
from workbench.fileio import write_jsonl
from workbench.labels import LabelScheme, load_labels


@dataclass(frozen=True)
class ScoredPattern:
    """One span-ruler pattern and how often it was right in the gold it was scored on."""

    label: str
    pattern: str | list  # a phrase (exact text) or a token pattern
    source: str  # "gold" (derived) or "labels" (the label config's own)
    matched: int
    right: int

    @property
    def precision(self) -> float | None:
        return self.right / self.matched if self.matched else None

    def to_dict(self) -> dict:
        """spaCy's pattern entry (label, pattern, id) with the counts beside it, in words.

        The span ruler keeps the entry as given when the model is saved, but its config
        validation turns every extra value into a string; so the counts are one string.
        """
        return {
            "label": self.label,
            "pattern": self.pattern,
            "id": f"{self.source}:{self.label}",
            "source": self.source,
            "right_in_gold": f"{self.right} of {self.matched} matches",
        }


def span_patterns(span: Span) -> list[str | list]:
    """The phrase and token patterns one gold span gives (see the module docstring), without repeats."""
    lower = [{"LOWER": token.lower_} for token in span]
    patterns: list[str | list] = [span.text, lower]
    general, after_function_word = [], False
    for token in span:
        if after_function_word and token.is_title:
            general.append({"IS_TITLE": True})
        else:
            general.append({"LOWER": token.lower_})
        after_function_word = after_function_word or token.is_lower
    if general != lower:
        patterns.append(general)
    return patterns


def _key(pattern: str | list) -> str:
    return json.dumps(pattern, sort_keys=True, ensure_ascii=False)


def score_patterns(docs: list[Doc], candidates: list[tuple[str, str | list, str]]) -> list[ScoredPattern]:
    """Each (label, pattern, source) run over the docs: how many spans it matches, how many are gold entities of its label."""
    if not docs:
        return [ScoredPattern(label, pattern, source, 0, 0) for label, pattern, source in candidates]
    vocab = docs[0].vocab
    # A phrase is tokenized as the documents are, so the PhraseMatcher can match it token by token.
    tokenizer = English(vocab=vocab).tokenizer
    matcher, phrases = Matcher(vocab), PhraseMatcher(vocab)
    for i, (_, pattern, _) in enumerate(candidates):
        if isinstance(pattern, str):
            phrases.add(f"p{i}", [tokenizer(pattern)])
        else:
            matcher.add(f"p{i}", [pattern])
    matched, right = Counter(), Counter()
    for doc in docs:
        gold = {(ent.start, ent.end, ent.label_) for ent in doc.ents}
        hits = {(vocab.strings[m_id], start, end) for m_id, start, end in [*matcher(doc), *phrases(doc)]}
        for name, start, end in hits:
            index = int(name[1:])
            matched[index] += 1
            right[index] += (start, end, candidates[index][0]) in gold
    return [ScoredPattern(label, pattern, source, matched[i], right[i]) for i, (label, pattern, source) in enumerate(candidates)]


def derive_patterns(docs: Iterable[Doc], scheme: LabelScheme) -> list[ScoredPattern]:
    """The span-ruler patterns the label config asks for, scored on these gold docs; those below a label's min_precision are left out."""
    docs = list(docs)
    candidates: dict[str, tuple[str, str | list, str]] = {}
    for name, entity in scheme.entities.items():
        settings = entity.patterns
        if settings is None:
            continue
        for pattern in settings.add:
            candidates.setdefault(f"{name} {_key(pattern)}", (name, pattern, "labels"))
        if settings.from_gold:
            for doc in docs:
                for ent in doc.ents:
                    if ent.label_ == name:
                        for pattern in span_patterns(ent):
                            candidates.setdefault(f"{name} {_key(pattern)}", (name, pattern, "gold"))
    kept = []
    for scored in score_patterns(docs, list(candidates.values())):
        floor = scheme.entities[scored.label].patterns.min_precision
        if scored.source == "labels" or (scored.precision is not None and scored.precision >= floor):
            kept.append(scored)
    return kept


def patterns_from_gold(gold_paths: list, scheme: LabelScheme, splits: list[str] | None = None, corpus: Corpus | None = None) -> list[ScoredPattern]:
    """The patterns of these gold files (only the documents of `splits`, when given), checked as `workbench data` checks gold."""
    records = check_gold(gold_paths, scheme, corpus)
    if splits:
        records = [r for r in records if corpus.split_of(r.doc_id) in splits]
        if not records:
            raise WorkbenchError(f"no gold document is in the {'+'.join(splits)!r} split")
    return derive_patterns(gold_docs(records, make_gold_nlp()), scheme)


def write_patterns(path: str | Path, patterns: list[ScoredPattern]) -> int:
    return write_jsonl(path, (pattern.to_dict() for pattern in patterns))


@registry.misc("workbench.entity_patterns.v1")
def create_entity_patterns(train: str | None, labels: str | None) -> list[dict]:
    """The span ruler's patterns for `[initialize.components.span_ruler] patterns`: derived from the training DocBin.

    With labels null, or a label config that asks for no patterns, the list is empty.
    """
    if not labels or not train:
        return []
    scheme = load_labels(labels)
    if not any(entity.patterns for entity in scheme.entities.values()):
        return []
    return [scored.to_dict() for scored in derive_patterns(read_docbin(spacy.blank("en"), train), scheme)]
