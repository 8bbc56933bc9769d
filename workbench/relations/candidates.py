"""Candidate argument pairs: ordered entity pairs that are close enough and that some relation type allows."""

from __future__ import annotations

from typing import NamedTuple

from spacy.tokens import Doc, Span

from workbench.labels import LabelScheme

# The relation component's candidate window when its config does not set one.
DEFAULT_MAX_DISTANCE = 10


class Candidate(NamedTuple):
    head: tuple[int, int]  # token range, end-exclusive, as in doc._.relations
    tail: tuple[int, int]
    head_label: str
    tail_label: str
    allowed: tuple[str, ...]  # relation types this ordered pair may carry

    @property
    def gap(self) -> int:
        """Tokens strictly between the two arguments."""
        return max(0, max(self.head[0], self.tail[0]) - min(self.head[1], self.tail[1]))

    @property
    def head_first(self) -> bool:
        return self.head[0] < self.tail[0]


def sentence_index(doc: Doc) -> list[int] | None:
    """The sentence number of each token, or None when the doc has no sentence boundaries."""
    if not doc.has_annotation("SENT_START"):
        return None
    index = [0] * len(doc)
    for number, sent in enumerate(doc.sents):
        index[sent.start : sent.end] = [number] * len(sent)
    return index


def generate_candidates(doc: Doc, scheme: LabelScheme, max_distance: int) -> list[Candidate]:
    """Ordered pairs of doc.ents in one sentence or at most `max_distance` tokens apart that some type allows.

    Without sentence boundaries on the doc, only the distance counts.
    """
    ents = sorted(doc.ents, key=lambda e: (e.start, e.end))
    sents = sentence_index(doc)
    candidates = []
    for i, first in enumerate(ents):
        for second in ents[i + 1 :]:
            same_sentence = sents is not None and sents[first.start] == sents[second.start]
            if not same_sentence and second.start - first.end > max_distance:
                # Later entities are further away and in no earlier sentence: none can qualify.
                break
            candidates.extend(_allowed_orders(first, second, scheme))
    return candidates


def _allowed_orders(first: Span, second: Span, scheme: LabelScheme) -> list[Candidate]:
    pairs = []
    for head, tail in ((first, second), (second, first)):
        head_first = head.start < tail.start
        allowed = tuple(n for n, rel in scheme.relations.items() if rel.allows_candidate(head.label_, tail.label_, head_first))
        if allowed:
            pairs.append(Candidate((head.start, head.end), (tail.start, tail.end), head.label_, tail.label_, allowed))
    return pairs


def same_tokenization(first: Doc, second: Doc) -> bool:
    return len(first) == len(second) and all(a.idx == b.idx and len(a) == len(b) for a, b in zip(first, second))


def move_candidate(candidate: Candidate, source: Doc, target: Doc) -> Candidate | None:
    """The same candidate on another tokenization of the same text (None if a boundary does not align)."""
    head = _move_range(candidate.head, source, target)
    tail = _move_range(candidate.tail, source, target)
    if head is None or tail is None:
        return None
    return candidate._replace(head=head, tail=tail)


def _move_range(tokens: tuple[int, int], source: Doc, target: Doc) -> tuple[int, int] | None:
    span = source[tokens[0] : tokens[1]]
    moved = target.char_span(span.start_char, span.end_char)
    return None if moved is None else (moved.start, moved.end)
