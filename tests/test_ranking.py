"""Ranking what to annotate next: seeded and deterministic, hand-computed diversity and threshold closeness, nothing done twice."""

from __future__ import annotations

import numpy
import pytest

from workbench.annotations.ranking import farthest_first, rank_documents, threshold_closeness
from workbench.doccano.next import unannotated
from workbench.errors import WorkbenchError


@pytest.fixture(scope="module")
def tiny_ner(gold_records):
    """A real statistical NER, trained a few steps on the gold: enough for its beam to be unsure of some spans."""
    import spacy
    from spacy.training import Example
    from thinc.api import fix_random_seed

    from workbench.docs import record_to_doc

    fix_random_seed(0)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    examples = [Example(nlp.make_doc(r.text), record_to_doc(nlp.make_doc, r)) for r in gold_records]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(6):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    assert ner.labels
    return nlp


def test_random_order_is_seeded_and_ignores_input_order():
    pool = {f"d{i}": f"text {i}" for i in range(8)}
    reversed_pool = dict(reversed(list(pool.items())))
    first = rank_documents(None, pool, "random", seed=3).top(8)
    assert first == rank_documents(None, reversed_pool, "random", seed=3).top(8)
    assert sorted(first) == sorted(pool)
    assert first != rank_documents(None, pool, "random", seed=4).top(8)


def test_farthest_first_by_hand():
    a, b, c = [1.0, 0.0], [0.0, 1.0], [0.8, 0.6]
    pool = numpy.array([a, b, c], dtype="f")
    # Labelled (1, 0): cosine distances a 0, b 1, c 0.2 -> b; then c: min(0.2, 1 - 0.6) = 0.2 -> c; then a: 0.
    order, distances = farthest_first(pool, numpy.array([[1.0, 0.0]], dtype="f"))
    assert order == [1, 2, 0] and numpy.allclose(distances, [1.0, 0.2, 0.0])
    # Nothing labelled: the centre is (0.6, 0.533); c is nearest it (dot 0.8 against a's 0.6 and b's 0.533),
    # then b (1 - 0.6 = 0.4 from c) before a (1 - 0.8 = 0.2 from c).
    order, distances = farthest_first(pool, numpy.zeros((0, 2), dtype="f"))
    assert order == [2, 1, 0] and numpy.allclose(distances, [0.0, 0.4, 0.2])


def test_threshold_closeness_by_hand():
    probs = numpy.array([[0.5, 0.9], [0.2, 0.8]], dtype="f")
    cutoffs = numpy.array([0.5, 0.8], dtype="f")
    # 0.5 on 0.5 -> 1; 0.9 vs 0.8: 1 - 0.1 / 0.8 = 0.875; 0.2 vs 0.5: 1 - 0.3 / 0.5 = 0.4; 0.8 on 0.8 -> 1.
    assert numpy.allclose(threshold_closeness(probs, cutoffs), [[1.0, 0.875], [0.4, 1.0]])


def test_uncertainty_ranking_is_deterministic_and_best_first(tiny_ner, gold_records):
    pool = {r.doc_id: r.text for r in gold_records}
    first = rank_documents(tiny_ner, pool, "uncertainty", beam_width=4)
    again = rank_documents(tiny_ner, dict(reversed(list(pool.items()))), "uncertainty", beam_width=4)
    assert first.to_dict() == again.to_dict()
    assert sorted(first.top(10)) == sorted(pool)
    keys = [(-d.score, d.doc_id) for d in first.docs]
    assert keys == sorted(keys)
    # Six updates leave the beam split on some span of the long articles.
    assert first.docs[0].uncertainty.entity > 0
    # No relation component: the score is the entity part alone, halved.
    assert all(d.uncertainty.relation == 0.0 and d.score == pytest.approx(d.uncertainty.entity / 2, abs=1e-6) for d in first.docs)


def test_uncertainty_needs_a_statistical_ner(ruler_model, gold_records):
    from workbench.predict import load_pipeline

    with pytest.raises(WorkbenchError, match="statistical 'ner'"):
        rank_documents(load_pipeline(ruler_model), {"x": gold_records[0].text}, "uncertainty")
    with pytest.raises(WorkbenchError, match="needs a model"):
        rank_documents(None, {"x": "text"}, "diversity")
    with pytest.raises(WorkbenchError, match="unknown order"):
        rank_documents(None, {"x": "text"}, "surprise")


def test_unannotated_leaves_out_articles_in_the_project_or_annotated():
    # The filter `doccano next` ranks after (workbench/doccano/next.py); ranking itself is tested above.
    articles = [(f"a{i}", f"text {i}", {}) for i in range(5)]
    left = unannotated(articles, in_project={"a1"}, annotated={"a3", "zz"})
    assert [a[0] for a in left] == ["a0", "a2", "a4"]
