"""Corpus augmenters that put entities on the predicted docs the relation component trains and is scored on.

`spacy train` evaluates by running the pipeline on `example.predicted`, which the corpus
reader builds from raw text. A relation model trained on gold entities needs those
entities (and sentence boundaries, for its candidates) on that doc to be scored at all:
`workbench.gold_entities.v1`.

`workbench.ner_entities.v1` puts a trained NER's own entities on the predicted doc
instead. The component trains on the candidates of both the gold and the predicted
entities, so it also learns from the spans users' pipelines will really give it: a
boundary the NER gets wrong is a negative example, not an unseen case.

`workbench.entity_swap.v1` multiplies the training documents for types with few
examples: besides each document, it yields copies in which the names of chosen labels
(PERSON by default) are swapped for other names of the same label from the training
documents, each name the same way throughout a copy, relations kept. A relation is then
learnt from its context, not from who it was ("Fidan" is in most SPOKE_WITH of our gold).
It wraps the augmenter that puts entities on the predicted doc (`then`).
"""

# No `from __future__ import annotations`: confection validates the augmenters' arguments
# against their type hints (`then` is a registered augmenter), which must be real types.

import random
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


@registry.augmenters("workbench.entity_swap.v1")
def create_entity_swap_augmenter(
    then: Callable[[Language, Example], Iterator[Example]],
    copies: int = 2,
    labels: list[str] = ["PERSON"],
    seed: int = 0,
) -> Callable[[Language, Example], Iterator[Example]]:
    """Each example, then `copies` copies with the names of `labels` swapped; `then` puts entities on each predicted doc.

    Names come from the documents seen so far (the current one included), so the copies
    are the same for the same corpus order, which spaCy's training seed fixes.
    """
    rng = random.Random(seed)
    pool: dict[str, list[str]] = {label: [] for label in labels}

    def entity_swap_augmenter(nlp: Language, example: Example) -> Iterator[Example]:
        reference = example.reference
        for ent in reference.ents:
            if ent.label_ in pool and ent.text not in pool[ent.label_]:
                pool[ent.label_].append(ent.text)
        yield from then(nlp, example)
        for _ in range(copies):
            mapping = _name_map(reference, pool, rng)
            if all(new == name for (_, name), new in mapping.items()):
                break  # nothing to swap (no name of these labels, or no other name yet): no copy is a duplicate
            swapped = swap_names(nlp, reference, mapping)
            if swapped is not None:
                yield from then(nlp, Example(nlp.make_doc(swapped.text), swapped))

    return entity_swap_augmenter


def _name_map(doc: Doc, pool: dict[str, list[str]], rng: random.Random) -> dict[tuple[str, str], str]:
    """Each (label, name) of a swapped label in the doc -> a name of that label from the pool; two names never get the same one."""
    mapping = {}
    for label, names in pool.items():
        own = list(dict.fromkeys(ent.text for ent in doc.ents if ent.label_ == label))
        if own:
            mapping.update({(label, name): new for name, new in zip(own, rng.sample(names, len(own)))})
    return mapping


def swap_names(nlp: Language, doc: Doc, mapping: dict[tuple[str, str], str]) -> Doc | None:
    """A copy of a gold doc with entity texts replaced by `mapping`: entities, relations and sentence starts moved along.

    None when a new name does not fall on token boundaries of the new text.
    """
    from workbench.docs import get_relations

    pieces, spans, sent_starts = [], [], []
    starts = {sent.start_char for sent in doc.sents} if doc.has_annotation("SENT_START") else set()
    cursor = shift = 0
    for ent in doc.ents:
        new = mapping.get((ent.label_, ent.text), ent.text)
        pieces += [doc.text[cursor : ent.start_char], new]
        start = ent.start_char + shift
        spans.append((start, start + len(new), ent.label_))
        sent_starts += [char + shift for char in starts if cursor <= char <= ent.start_char]
        shift += len(new) - len(ent.text)
        cursor = ent.end_char
    pieces.append(doc.text[cursor:])
    sent_starts += [char + shift for char in starts if char >= cursor]
    new_doc = nlp.make_doc("".join(pieces))
    ents = [new_doc.char_span(start, end, label=label) for start, end, label in spans]
    if any(span is None for span in ents):
        return None
    new_doc.ents = ents
    moved = {(old.start, old.end): (new.start, new.end) for old, new in zip(doc.ents, ents)}
    new_doc._.relations = [
        {**rel, "head": list(moved[tuple(rel["head"])]), "tail": list(moved[tuple(rel["tail"])])} for rel in get_relations(doc)
    ]
    if starts:
        begins = set(sent_starts)
        for token in new_doc:
            token.is_sent_start = token.idx in begins
    return new_doc
