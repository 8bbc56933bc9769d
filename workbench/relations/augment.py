"""Corpus augmenter that gives each predicted doc the gold entities and sentences of its reference doc.

`spacy train` evaluates by running the pipeline on `example.predicted`, which the corpus
reader builds from raw text. A relation model trained on gold entities needs those
entities (and sentence boundaries, for its candidates) on that doc to be scored at all.
"""

from __future__ import annotations

from typing import Callable, Iterator

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry


@registry.augmenters("workbench.gold_entities.v1")
def create_gold_entities_augmenter() -> Callable[[Language, Example], Iterator[Example]]:
    return gold_entities_augmenter


def gold_entities_augmenter(nlp: Language, example: Example) -> Iterator[Example]:
    yield Example(with_gold_entities(example), example.reference)


def with_gold_entities(example: Example) -> Doc:
    """A copy of the predicted doc with the reference's entities and sentence starts (matched by characters)."""
    reference = example.reference
    doc = example.predicted.copy()
    spans = (doc.char_span(ent.start_char, ent.end_char, label=ent.label_) for ent in reference.ents)
    doc.ents = [span for span in spans if span is not None]
    if reference.has_annotation("SENT_START"):
        starts = {sent.start_char for sent in reference.sents}
        for token in doc:
            token.is_sent_start = token.idx in starts
    return doc
