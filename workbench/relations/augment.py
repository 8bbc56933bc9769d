"""Corpus augmenters that put entities on the predicted docs the relation component trains and is scored on.

`spacy train` evaluates by running the pipeline on `example.predicted`, which the corpus
reader builds from raw text. A relation model trained on gold entities needs those
entities (and sentence boundaries, for its candidates) on that doc to be scored at all:
`workbench.gold_entities.v1`.

`workbench.ner_entities.v1` puts a trained NER's own entities on the predicted doc
instead. The component trains on the candidates of both the gold and the predicted
entities, so it also learns from the spans users' pipelines will really give it: a
boundary the NER gets wrong is a negative example, not an unseen case.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterator

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry


@registry.augmenters("workbench.gold_entities.v1")
def create_gold_entities_augmenter() -> Callable[[Language, Example], Iterator[Example]]:
    return gold_entities_augmenter


def gold_entities_augmenter(nlp: Language, example: Example) -> Iterator[Example]:
    yield Example(with_gold_entities(example), example.reference)


@registry.augmenters("workbench.ner_entities.v1")
def create_ner_entities_augmenter(ner_model: str | None = None) -> Callable[[Language, Example], Iterator[Example]]:
    """With ner_model null, the gold entities (as workbench.gold_entities.v1)."""
    if not ner_model:
        return gold_entities_augmenter

    def ner_entities_augmenter(nlp: Language, example: Example) -> Iterator[Example]:
        yield Example(with_predicted_entities(example, _load_ner(ner_model)), example.reference)

    return ner_entities_augmenter


@lru_cache(maxsize=2)
def _load_ner(path: str) -> Language:
    # The entities are what counts: an assembled pipeline's relation component is not run.
    nlp = spacy.load(path)
    nlp.select_pipes(disable=[name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory == "relation_extractor"])
    return nlp


def with_gold_entities(example: Example) -> Doc:
    """A copy of the predicted doc with the reference's entities and sentence starts (matched by characters)."""
    return _with_entities_of(example, example.reference)


def with_predicted_entities(example: Example, ner: Language) -> Doc:
    """A copy of the predicted doc with `ner`'s entities (re-tokenized spans matched by characters) and the reference's sentences."""
    return _with_entities_of(example, ner(example.reference.text))


def _with_entities_of(example: Example, source: Doc) -> Doc:
    """A copy of the predicted doc with `source`'s entities (matched by characters) and the reference's sentences."""
    doc = example.predicted.copy()
    spans = (doc.char_span(ent.start_char, ent.end_char, label=ent.label_) for ent in source.ents)
    doc.ents = [span for span in spans if span is not None]
    return _with_reference_sentences(doc, example.reference)


def _with_reference_sentences(doc: Doc, reference: Doc) -> Doc:
    if reference.has_annotation("SENT_START"):
        starts = {sent.start_char for sent in reference.sents}
        for token in doc:
            token.is_sent_start = token.idx in starts
    return doc
