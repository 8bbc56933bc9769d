"""A tiny trained base pipeline made in the tests (never downloaded), scheme-labelled data to fine-tune it on,
and damaged copies of a pipeline."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example

# The tiny base model knows three labels; the scheme keeps PERSON and GPE, lacks CARDINAL,
# and adds the rest (ROLE, ORG, ...).
BASE_SENTENCES = [
    ("John met 12 people in Paris .", [("John", "PERSON"), ("12", "CARDINAL"), ("Paris", "GPE")]),
    ("Mary saw 40 envoys in Rome .", [("Mary", "PERSON"), ("40", "CARDINAL"), ("Rome", "GPE")]),
    ("Ann called 7 ministers in Oslo .", [("Ann", "PERSON"), ("7", "CARDINAL"), ("Oslo", "GPE")]),
]
SCHEME_SENTENCES = [
    ("John , the minister , met 12 people in Paris .", [("John", "PERSON"), ("minister", "ROLE"), ("Paris", "GPE")]),
    ("Mary , the envoy , saw 40 people in Rome .", [("Mary", "PERSON"), ("envoy", "ROLE"), ("Rome", "GPE")]),
]


def _example(nlp, text, spans):
    doc = nlp.make_doc(text)
    ents = []
    for surface, label in spans:
        start = text.index(surface)
        ents.append(doc.char_span(start, start + len(surface), label=label))
    gold = doc.copy()
    gold.ents = ents
    return Example(nlp.make_doc(text), gold)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    """A small trained NER pipeline with vectors, made here (never downloaded), that predicts CARDINAL."""
    from thinc.api import fix_random_seed

    fix_random_seed(0)
    nlp = spacy.blank("en")
    for i, word in enumerate(["John", "Mary", "Paris", "Rome", "met", "minister"]):
        nlp.vocab.set_vector(word, numpy.full((4,), i + 1, dtype="float32"))
    ner = nlp.add_pipe("ner")
    examples = [_example(nlp, text, spans) for text, spans in BASE_SENTENCES]
    nlp.initialize(lambda: examples)
    for _ in range(60):
        nlp.update(examples, drop=0.0)
    path = tmp_path_factory.mktemp("base") / "tiny_base"
    nlp.meta["name"] = "tiny_base"
    nlp.to_disk(path)
    assert "CARDINAL" in {e.label_ for e in spacy.load(path)("Bob met 99 people in Paris .").ents}, "the base must predict CARDINAL"
    return path


@pytest.fixture(scope="module")
def scheme_docbin(tmp_path_factory) -> Path:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    docs = [nlp(_example(nlp, text, spans).reference) for text, spans in SCHEME_SENTENCES]
    path = tmp_path_factory.mktemp("data") / "train.spacy"
    DocBin(docs=docs).to_disk(path)
    return path


@pytest.fixture(scope="module")
def ner_model(tmp_path_factory) -> Path:
    """A small real pipeline with a trainable NER, saved: its ner/model is a msgpack of weights."""
    nlp = spacy.blank("en")
    nlp.add_pipe("ner").add_label("PERSON")
    nlp.initialize()
    path = tmp_path_factory.mktemp("ner") / "model"
    nlp.to_disk(path)
    return path


def damaged(tmp_path: Path, model: Path, component: str, how: str) -> Path:
    """A copy of `model` with its component's weights cut short (`truncated`) or overwritten (`garbled`)."""
    copy = tmp_path / f"{component}-{how}"
    shutil.copytree(model, copy)
    weights = copy / component / "model"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if how == "truncated" else bytes(b ^ 0x5A for b in data))
    return copy
