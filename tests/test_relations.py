"""Tests for the relation_extractor component: candidates, symmetry, scoring, thresholds, training, serialisation."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from spacy.util import load_config, load_model_from_config

import workbench.docs  # noqa: F401  registers doc._.relations
from workbench.docs import doc_to_record
from workbench.relations import tune_thresholds
from workbench.relations.augment import with_gold_entities
from workbench.relations.candidates import generate_candidates
from workbench.relations.scoring import score_relations
from workbench.labels import LabelScheme, RelationType, load_labels
from workbench.relations.signatures import relation_key
from workbench.relations.thresholds import choose_threshold

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "configs" / "labels.yml"
# The component's own behaviour is tested on the from-scratch config (no vectors, fast);
# the default config, with the base model's vectors, is trained by the spaCy CLI below.
REL_CFG = ROOT / "configs" / "rel-scratch.cfg"

# Small dims so that the config trains in seconds; everything else comes from configs/rel.cfg.
TINY = {
    "paths.labels": str(LABELS),
    "components.relation_extractor.model.hidden_width": 32,
    "components.relation_extractor.model.feature_width": 8,
    "components.relation_extractor.model.dropout": 0.0,
    "components.relation_extractor.model.tok2vec.encode.width": 32,
    "components.relation_extractor.model.tok2vec.encode.depth": 1,
    "components.relation_extractor.model.tok2vec.embed.rows": [500, 100, 250, 250],
}

# (text, entities as (surface, label), relations as (head surface, tail surface, type))
SENTENCES = [
    (
        "Foreign Minister Hakan Fidan met Marco Rubio in Ankara .",
        [("Foreign Minister", "ROLE"), ("Hakan Fidan", "PERSON"), ("Marco Rubio", "PERSON"), ("Ankara", "GPE")],
        [("Hakan Fidan", "Foreign Minister", "HAS_ROLE"), ("Hakan Fidan", "Marco Rubio", "MET")],
    ),
    (
        "French President Emmanuel Macron spoke with Olaf Scholz by phone on Monday .",
        [("French", "NORP"), ("President", "ROLE"), ("Emmanuel Macron", "PERSON"), ("Olaf Scholz", "PERSON"), ("Monday", "DATE")],
        [
            ("Emmanuel Macron", "French", "AFFILIATION"),
            ("Emmanuel Macron", "President", "HAS_ROLE"),
            ("Emmanuel Macron", "Olaf Scholz", "SPOKE_WITH"),
        ],
    ),
    (
        # The symmetric gold relation is written tail-first: it must still be learnt and matched.
        "Sergei Lavrov , the minister for Russia , received Wang Yi . Talks followed .",
        [("Sergei Lavrov", "PERSON"), ("minister", "ROLE"), ("Russia", "GPE"), ("Wang Yi", "PERSON")],
        [("Sergei Lavrov", "minister", "HAS_ROLE"), ("Sergei Lavrov", "Russia", "AFFILIATION"), ("Wang Yi", "Sergei Lavrov", "MET")],
    ),
]


@pytest.fixture(scope="module")
def gold_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


@pytest.fixture(scope="module")
def signatures():
    return load_labels(LABELS)


def make_gold(nlp, text: str, entities, relations) -> Doc:
    doc = nlp(text)
    spans = {surface: doc.char_span(text.index(surface), text.index(surface) + len(surface), label=label) for surface, label in entities}
    doc.ents = list(spans.values())
    doc._.relations = [
        {"head": [spans[h].start, spans[h].end], "tail": [spans[t].start, spans[t].end], "label": label}
        for h, t, label in relations
    ]
    return doc


def relation_set(doc: Doc) -> set:
    scheme = load_labels(LABELS)
    return {relation_key(scheme, rel["head"], rel["tail"], rel["label"]) for rel in doc._.relations or []}


def unannotated_copy(doc: Doc) -> Doc:
    """The gold doc with its relations removed (entities and sentences kept)."""
    copy = doc.copy()
    copy._.relations = None
    return copy


# --- candidates and signatures -------------------------------------------------------------


def test_candidates_are_pruned_by_signature(gold_nlp, signatures):
    doc = make_gold(gold_nlp, *SENTENCES[0][:2], [])
    found = {(c.head, c.tail, c.allowed) for c in generate_candidates(doc, signatures, max_distance=0)}
    # ROLE->PERSON, GPE->anything and PERSON->GPE (AFFILIATION allows GPE) checked by hand:
    assert found == {
        ((2, 4), (0, 2), ("HAS_ROLE",)),
        ((5, 7), (0, 2), ("HAS_ROLE",)),
        ((2, 4), (5, 7), ("MET", "SPOKE_WITH")),
        ((2, 4), (8, 9), ("AFFILIATION",)),
        ((5, 7), (8, 9), ("AFFILIATION",)),
    }


def test_symmetric_pair_is_one_candidate_in_text_order(signatures):
    met = signatures.relations["MET"]
    assert met.allows_candidate("PERSON", "PERSON", head_first=True)
    assert not met.allows_candidate("PERSON", "PERSON", head_first=False)
    mixed = RelationType("X", ("A",), ("B",), symmetric=True)
    assert mixed.allows_candidate("B", "A", head_first=True) and not mixed.allows_candidate("B", "A", head_first=False)
    assert signatures.relations["HAS_ROLE"].allows_candidate("PERSON", "ROLE", head_first=False)


def test_cross_sentence_pairs_need_the_window(gold_nlp, signatures):
    text = "Hakan Fidan arrived . Marco Rubio left ."
    doc = make_gold(gold_nlp, text, [("Hakan Fidan", "PERSON"), ("Marco Rubio", "PERSON")], [])
    assert len(list(doc.sents)) == 2
    assert generate_candidates(doc, signatures, max_distance=1) == []
    assert len(generate_candidates(doc, signatures, max_distance=2)) == 1
    no_sentences = spacy.blank("en")(text)
    no_sentences.ents = [Span(no_sentences, 0, 2, label="PERSON"), Span(no_sentences, 4, 6, label="PERSON")]
    assert generate_candidates(no_sentences, signatures, max_distance=1) == []


# --- scoring and thresholds ----------------------------------------------------------------


def test_score_is_strict_and_symmetric_order_free(gold_nlp):
    gold = make_gold(gold_nlp, *SENTENCES[2])
    pred = unannotated_copy(gold)
    pred._.relations = [
        {"head": [9, 11], "tail": [0, 2], "label": "MET", "score": 0.9},  # reversed symmetric: still correct
        {"head": [0, 2], "tail": [4, 5], "label": "HAS_ROLE", "score": 0.9},
        {"head": [0, 2], "tail": [6, 7], "label": "HAS_ROLE", "score": 0.9},  # wrong type
    ]
    scores = score_relations([Example(pred, gold)], load_labels(LABELS))
    assert scores["rel_micro_p"] == pytest.approx(2 / 3)
    assert scores["rel_micro_r"] == pytest.approx(2 / 3)  # the missed AFFILIATION is a false negative
    assert scores["rel_per_type"]["AFFILIATION"]["r"] == 0.0


def test_choose_threshold_best_f1_and_target_precision():
    cells = [(0.9, True), (0.8, False), (0.7, True), (0.2, False)]
    # Cuts from the top: 0.85 (F1 .5), 0.75 (.4), 0.45 (.667, the best), 0.2 (.571). One standard
    # error at the best, sqrt(.667 * .333 / 3) = .272, lets F1 >= .395 qualify: the highest such cut is 0.85.
    best = choose_threshold(cells, n_gold=3)
    assert best.threshold == pytest.approx(0.85) and best.f1 == pytest.approx(0.5) and best.precision == 1.0
    # With many gold relations the standard error shrinks and the best-F1 cut itself is chosen:
    # 30 copies of each cell: best F1 .667 at 0.45, SE sqrt(.667 * .333 / 90) = .0497, and 0.85's .5 is out.
    assert choose_threshold(cells * 30, n_gold=90).threshold == pytest.approx(0.45)
    precise = choose_threshold(cells, n_gold=3, target_precision=0.95)
    assert precise.threshold == pytest.approx(0.85) and precise.precision == 1.0
    assert choose_threshold([(0.5, False)], n_gold=1, target_precision=0.5) is None


def test_augmenter_puts_gold_entities_and_sentences_on_predicted(gold_nlp):
    gold = make_gold(gold_nlp, *SENTENCES[2])
    predicted = with_gold_entities(Example(spacy.blank("en").make_doc(gold.text), gold))
    assert [(e.start, e.end, e.label_) for e in predicted.ents] == [(e.start, e.end, e.label_) for e in gold.ents]
    assert [s.start for s in predicted.sents] == [s.start for s in gold.sents]
    assert not predicted._.relations


# --- a tiny model trained from configs/rel.cfg ---------------------------------------------


@pytest.fixture(scope="module")
def trained(gold_nlp):
    config = load_config(REL_CFG, overrides=TINY, interpolate=False)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    golds = [make_gold(gold_nlp, *sentence) for sentence in SENTENCES]
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in golds]
    optimizer = nlp.initialize(lambda: examples, sgd=None)
    for _ in range(60):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    return nlp, golds


def test_training_recovers_the_relations(trained):
    nlp, golds = trained
    for gold, predicted in zip(golds, nlp.pipe(unannotated_copy(d) for d in golds)):
        assert relation_set(predicted) == relation_set(gold), gold.text
        assert all(0.5 <= rel["score"] <= 1.0 for rel in predicted._.relations)
        assert all(r["label"] not in ("MET", "SPOKE_WITH") or r["head"] < r["tail"] for r in predicted._.relations)


def test_a_doc_without_pairs_changes_no_other_docs_scores(trained):
    nlp, golds = trained
    rel = nlp.get_pipe("relation_extractor")
    empty = nlp.make_doc("Nothing to relate here.")
    alone = [rel.predict([unannotated_copy(gold)])[0] for gold in golds]
    mixed = rel.predict([empty, *(unannotated_copy(gold) for gold in golds), empty])
    assert [len(s.candidates) for s in (mixed[0], mixed[-1])] == [0, 0]
    for one, together in zip(alone, mixed[1:-1]):
        assert one.candidates == together.candidates
        numpy.testing.assert_allclose(one.probs, together.probs, rtol=1e-5, atol=1e-6)


def test_tune_thresholds_sets_per_type_values(trained):
    nlp, golds = trained
    component = nlp.get_pipe("relation_extractor")
    before = dict(component.thresholds)
    try:
        report = tune_thresholds(component, golds)
        assert set(report) == set(component.labels)
        assert all(report[label]["f1"] == 1.0 for label in ("HAS_ROLE", "AFFILIATION", "MET", "SPOKE_WITH"))
        assert all(0.0 < value < 1.0 for value in component.thresholds.values())
        assert golds[0]._.relations and "score" not in golds[0]._.relations[0]  # gold docs untouched
    finally:
        for label, value in before.items():
            component.set_threshold(label, value)


def test_tune_thresholds_keeps_types_with_too_little_dev_support(trained):
    nlp, golds = trained
    component = nlp.get_pipe("relation_extractor")
    before = dict(component.thresholds)
    # The fixture sentences hold a handful of relations of each type, far below 50.
    report = tune_thresholds(component, golds, min_support=50)
    assert component.thresholds == before
    assert not any(row["changed"] for row in report.values())
    # What is reported for a kept threshold is its real dev score, not a placeholder.
    assert report["HAS_ROLE"]["threshold"] == before["HAS_ROLE"] and report["HAS_ROLE"]["f1"] == 1.0


def test_to_disk_from_disk_round_trip(trained, tmp_path):
    nlp, golds = trained
    component = nlp.get_pipe("relation_extractor")
    component.set_threshold("MET", 0.42)
    nlp.to_disk(tmp_path / "model")
    component.set_threshold("MET", 0.5)
    loaded = spacy.load(tmp_path / "model")
    rel = loaded.get_pipe("relation_extractor")
    assert rel.thresholds["MET"] == 0.42
    assert rel.scheme == component.scheme and rel.max_distance == component.max_distance
    # The scheme comes from the saved cfg alone: no labels.yml is read at load time.
    assert rel.scheme.relations == LabelScheme.from_signatures(load_labels(LABELS).signatures()).relations
    assert rel.scheme.symmetric_types == {"MET", "SPOKE_WITH"}
    # The label config's trigger words travel with the weights (MET's and SPOKE_WITH's are in labels.yml).
    triggers = {label: words for label, words in zip(rel.labels, rel.model.get_ref("features").attrs["triggers"])}
    assert triggers == {label: list(r.triggers) for label, r in load_labels(LABELS).relations.items()} and triggers["MET"]
    for doc in golds:
        assert loaded(unannotated_copy(doc))._.relations == nlp(unannotated_copy(doc))._.relations


def test_predictions_survive_docbin_and_records(trained):
    nlp, golds = trained
    predicted = [nlp(unannotated_copy(doc)) for doc in golds]
    docbin = DocBin(store_user_data=True, docs=predicted)
    restored = list(DocBin().from_bytes(docbin.to_bytes()).get_docs(nlp.vocab))
    for before, after in zip(predicted, restored):
        assert relation_set(after) == relation_set(before)
        assert [r["score"] for r in after._.relations] == pytest.approx([r["score"] for r in before._.relations])
        assert len(doc_to_record(after, "x").relations) == len(before._.relations)


def test_spacy_load_in_a_fresh_process_needs_no_code(trained, tmp_path):
    nlp, golds = trained
    nlp.to_disk(tmp_path / "model")
    doc = golds[1]
    ents = [[e.start_char, e.end_char, e.label_] for e in doc.ents]
    script = textwrap.dedent(
        f"""
        import json, spacy
        nlp = spacy.load({str(tmp_path / "model")!r})
        doc = nlp.make_doc({doc.text!r})
        doc.ents = [doc.char_span(s, e, label=l) for s, e, l in {ents!r}]
        doc = nlp(doc)
        print(json.dumps([[list(r["head"]), list(r["tail"]), r["label"]] for r in doc._.relations]))
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    found = {(tuple(h), tuple(t), label) for h, t, label in json.loads(run.stdout.strip().splitlines()[-1])}
    assert found == relation_set(doc)


@pytest.mark.parametrize("config", ["rel-scratch.cfg", "rel.cfg"])
def test_spacy_train_cli_runs_the_config(gold_nlp, tmp_path, config):
    from workbench.training.base_model import resolve_base_model

    docbin = DocBin(store_user_data=True, docs=[make_gold(gold_nlp, *sentence) for sentence in SENTENCES])
    docbin.to_disk(tmp_path / "tiny.spacy")
    overrides = [f"--{key}={json.dumps(value) if isinstance(value, list) else value}" for key, value in TINY.items()]
    command = [sys.executable, "-m", "spacy", "train", str(ROOT / "configs" / config), "--output", str(tmp_path / "run")]
    command += [f"--paths.train={tmp_path / 'tiny.spacy'}", f"--paths.dev={tmp_path / 'tiny.spacy'}"]
    if config == "rel.cfg":
        command += [f"--paths.base_model={resolve_base_model('en_core_web_md').path}"]
    command += ["--training.max_steps=6", "--training.eval_frequency=3", *overrides]
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "REL_MICRO_F" in run.stdout
    meta = json.loads((tmp_path / "run" / "model-best" / "meta.json").read_text())
    assert "rel_micro_f" in meta["performance"]


def _params(model) -> dict:
    return {(i, name): node.get_param(name).copy() for i, node in enumerate(model.walk()) for name in node.param_names if node.has_param(name)}


def _one_sgd_step(gold_nlp, learn_rate_scale: float) -> dict:
    """Every weight's change after one plain-SGD update (no momentum, no decay), by parameter."""
    from thinc.api import SGD, fix_random_seed

    fix_random_seed(0)
    overrides = {**TINY, "components.relation_extractor.learn_rate_scale": learn_rate_scale}
    nlp = load_model_from_config(load_config(REL_CFG, overrides=overrides, interpolate=False), auto_fill=True, validate=True)
    golds = [make_gold(gold_nlp, *sentence) for sentence in SENTENCES]
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in golds]
    nlp.initialize(lambda: examples)
    model = nlp.get_pipe("relation_extractor").model
    before = _params(model)
    nlp.update(examples, sgd=SGD(0.01, L2=0.0, grad_clip=0.0, use_averages=False), drop=0.0)
    return {key: value - before[key] for key, value in _params(model).items()}


def test_learn_rate_scale_multiplies_every_step_of_the_relation_model(gold_nlp):
    # Same seed, same data, same gradients: plain SGD steps by rate x scale x gradient, so each
    # weight moves exactly 10 times as far with learn_rate_scale = 10.
    plain = _one_sgd_step(gold_nlp, 1.0)
    scaled = _one_sgd_step(gold_nlp, 10.0)
    moved = [key for key, step in plain.items() if numpy.abs(step).max() > 0]
    assert len(moved) > 5  # the head, the embeddings and the CNN all learn
    for key in moved:
        numpy.testing.assert_allclose(scaled[key], 10.0 * plain[key], rtol=1e-3, atol=2e-6, err_msg=str(key))  # float32 weights near 1


def test_learn_rate_scale_must_be_positive(gold_nlp):
    overrides = {**TINY, "components.relation_extractor.learn_rate_scale": 0}
    with pytest.raises(ValueError, match="learn_rate_scale must be positive, got 0"):
        load_model_from_config(load_config(REL_CFG, overrides=overrides, interpolate=False), auto_fill=True, validate=True)


def test_a_copied_or_unpickled_scaled_rate_keeps_its_optimizer_and_scale():
    import copy
    import pickle

    from thinc.api import SGD

    from workbench.relations.component import ScaledRate

    rate = ScaledRate(SGD(0.1), 10.0)
    # Copying builds the object without __init__ and asks for attributes first: this recursed before.
    for clone in (copy.copy(rate), pickle.loads(pickle.dumps(rate))):
        assert (clone.scale, clone.learn_rate) == (10.0, 0.1)
