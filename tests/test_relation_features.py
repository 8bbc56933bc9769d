"""The relation model's v2 features, NER-robust training candidates, and starting its encoder from a base model."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest
import spacy
from spacy.training import Example
from spacy.util import load_config, load_model_from_config

import workbench.docs  # noqa: F401  registers doc._.relations
from workbench.errors import WorkbenchError
from workbench.labels import load_labels
from workbench.relations.augment import create_ner_entities_augmenter
from workbench.relations.base_encoder import copy_tok2vec_weights
from workbench.relations.model import trigger_cues

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "configs" / "labels.yml"
TINY = {
    "paths.labels": str(LABELS),
    "components.relation_extractor.model.hidden_width": 16,
    "components.relation_extractor.model.feature_width": 4,
    "components.relation_extractor.model.tok2vec.encode.width": 16,
    "components.relation_extractor.model.tok2vec.encode.depth": 1,
    "components.relation_extractor.model.tok2vec.embed.rows": [100, 50, 50, 50],
}


def test_trigger_cues_mark_trigger_words_and_phrases():
    doc = spacy.blank("en").make_doc("Ann Met Bob and spoke by phone with Eve , not by mail")
    cues = trigger_cues(doc, [["met", "held talks"], ["spoke by phone", "phoned"], []])
    # "Met" matches in any case; "spoke by phone" marks its three words; "by" alone does not match.
    assert cues[:, 0].tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert cues[:, 1].tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert not cues[:, 2].any()


def test_label_config_triggers_reach_the_scheme():
    scheme = load_labels(LABELS)
    assert "met" in scheme.relations["MET"].triggers and "phoned" in scheme.relations["SPOKE_WITH"].triggers
    assert scheme.relations["HAS_ROLE"].triggers == ()


def tiny_relation_nlp(architecture: str = "workbench.RelationModel.v2"):
    overrides = {**TINY, "components.relation_extractor.model.@architectures": architecture}
    config = load_config(ROOT / "configs" / "rel-scratch.cfg", overrides=overrides, interpolate=False)
    return load_model_from_config(config, auto_fill=True, validate=True)


def gold_doc(nlp, text: str, entities, relations):
    doc = nlp(text)
    spans = {}
    for surface, label in entities:
        start = text.index(surface)
        spans[surface] = doc.char_span(start, start + len(surface), label=label)
    doc.ents = list(spans.values())
    doc._.relations = [{"head": [spans[h].start, spans[h].end], "tail": [spans[t].start, spans[t].end], "label": label} for h, t, label in relations]
    return doc


TEXT = "Foreign Minister Hakan Fidan met Marco Rubio in Ankara ."
ENTITIES = [("Foreign Minister", "ROLE"), ("Hakan Fidan", "PERSON"), ("Marco Rubio", "PERSON"), ("Ankara", "GPE")]
RELATIONS = [("Hakan Fidan", "Foreign Minister", "HAS_ROLE"), ("Hakan Fidan", "Marco Rubio", "MET")]


def test_predicted_entities_add_candidates_with_strict_targets():
    nlp = tiny_relation_nlp()
    sentencizer = spacy.blank("en")
    sentencizer.add_pipe("sentencizer")
    gold = gold_doc(sentencizer, TEXT, ENTITIES, RELATIONS)
    # A NER that took "Minister Hakan Fidan" for the person and got Marco Rubio right.
    predicted = nlp.make_doc(TEXT)
    predicted.ents = [predicted.char_span(TEXT.index("Minister Hakan Fidan"), TEXT.index(" met"), label="PERSON"),
                      predicted.char_span(TEXT.index("Marco"), TEXT.index(" in"), label="PERSON")]
    for token in predicted:
        token.is_sent_start = token.i == 0
    example = Example(predicted, gold)
    component = nlp.get_pipe("relation_extractor")
    nlp.initialize(lambda: [example])
    batch = component._training_batch([example])
    rows = {(predicted[c.head[0]:c.head[1]].text, predicted[c.tail[0]:c.tail[1]].text): batch.targets[i] for i, c in enumerate(batch.candidates[0])}
    column = {label: i for i, label in enumerate(component.labels)}
    # Gold pairs are candidates and positive for their type ...
    assert rows[("Hakan Fidan", "Foreign Minister")][column["HAS_ROLE"]] == 1.0
    assert rows[("Hakan Fidan", "Marco Rubio")][column["MET"]] == 1.0
    # ... and the NER's wrong span gives a candidate that is negative for every type.
    assert ("Minister Hakan Fidan", "Marco Rubio") in rows
    assert not rows[("Minister Hakan Fidan", "Marco Rubio")].any()
    # Each pair appears once, however many sources proposed it.
    keys = [(c.head, c.tail, c.head_label, c.tail_label) for c in batch.candidates[0]]
    assert len(keys) == len(set(keys))


def test_ner_entities_augmenter_puts_the_ners_spans_on_the_predicted_doc(tmp_path):
    ner_nlp = spacy.blank("en")
    ruler = ner_nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Marco Rubio"}, {"label": "GPE", "pattern": "Ankara"}])
    ner_nlp.to_disk(tmp_path / "ner")
    sentencizer = spacy.blank("en")
    sentencizer.add_pipe("sentencizer")
    gold = gold_doc(sentencizer, TEXT + " Talks followed .", ENTITIES, RELATIONS)
    augment = create_ner_entities_augmenter(str(tmp_path / "ner"))
    (out,) = list(augment(ner_nlp, Example(sentencizer.make_doc(gold.text), gold)))
    assert [(e.text, e.label_) for e in out.predicted.ents] == [("Marco Rubio", "PERSON"), ("Ankara", "GPE")]
    assert [s.start for s in out.predicted.sents] == [s.start for s in gold.sents]
    assert out.reference is gold
    # Without a NER model it gives the gold entities.
    (plain,) = list(create_ner_entities_augmenter(None)(ner_nlp, Example(sentencizer.make_doc(gold.text), gold)))
    assert [(e.text, e.label_) for e in plain.predicted.ents] == [(e.text, e.label_) for e in gold.ents]


def base_with_tok2vec(tmp_path, width: int):
    base = spacy.blank("en")
    base.add_pipe("tok2vec", config={"model": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": width, "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
                  "rows": [100, 50, 50, 50], "include_static_vectors": False},
        "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": width, "depth": 1, "window_size": 1, "maxout_pieces": 3},
    }})
    base.initialize()
    base.to_disk(tmp_path / f"base{width}")
    return tmp_path / f"base{width}", base.get_pipe("tok2vec").model


def test_base_tok2vec_weights_are_copied_into_the_relation_encoder(tmp_path):
    path, source = base_with_tok2vec(tmp_path, width=16)
    nlp = tiny_relation_nlp()
    target = nlp.get_pipe("relation_extractor").model.get_ref("tok2vec")
    target.initialize()
    copy_tok2vec_weights(str(path), "tok2vec", target)
    for ours, theirs in zip(target.walk(), source.walk()):
        for name in theirs.param_names:
            assert numpy.array_equal(ours.get_param(name), theirs.get_param(name)), (theirs.name, name)


def test_base_tok2vec_of_another_shape_is_a_clear_error(tmp_path):
    path, _ = base_with_tok2vec(tmp_path, width=8)
    target = tiny_relation_nlp().get_pipe("relation_extractor").model.get_ref("tok2vec")
    target.initialize()
    with pytest.raises(WorkbenchError, match="does not match the base model's 'tok2vec'"):
        copy_tok2vec_weights(str(path), "tok2vec", target)


def test_trigger_prior_adds_its_weight_and_backpropagates_exactly():
    from thinc.api import Linear, Model
    from workbench.relations.model import TRIGGER_PRIOR, with_trigger_prior

    # Stand-in for the feature layer: 3 features, of which the last 2 are the cues of 2 types.
    features = Model("features", lambda model, X, is_train: (X, lambda dY: dY), attrs={"version": 2, "triggers": [["met"], ["phoned"]]})
    output = Linear(nO=2, nI=3)
    layer = with_trigger_prior(features, output, output)
    X = numpy.asarray([[0.5, 1.0, 0.0], [0.5, 0.0, 0.0]], dtype="f")
    layer.initialize(X=X)
    assert layer.get_param("W").tolist() == [TRIGGER_PRIOR, TRIGGER_PRIOR]
    logits, backprop = layer.begin_update(X)
    plain = output.predict(X)
    # Row 0 has the first type's trigger: its logit rises by the prior weight, nothing else moves.
    assert logits - plain == pytest.approx(numpy.asarray([[TRIGGER_PRIOR, 0.0], [0.0, 0.0]]))
    # Gradients against finite differences, for the input and for the prior weights.
    d_logits = numpy.asarray([[1.0, -2.0], [0.5, 0.25]], dtype="f")
    d_X = backprop(d_logits)
    loss = lambda: float((layer.predict(X) * d_logits).sum())  # noqa: E731
    eps = 1e-2
    for row, col in [(0, 0), (0, 1), (1, 2)]:
        X[row, col] += eps
        up = loss()
        X[row, col] -= 2 * eps
        down = loss()
        X[row, col] += eps
        assert d_X[row, col] == pytest.approx((up - down) / (2 * eps), abs=1e-3)
    assert layer.get_grad("W").tolist() == pytest.approx([1.0 * 1.0, 0.0])


def test_base_without_the_source_component_is_a_clear_error(tmp_path):
    path, _ = base_with_tok2vec(tmp_path, width=16)
    target = tiny_relation_nlp().get_pipe("relation_extractor").model.get_ref("tok2vec")
    with pytest.raises(WorkbenchError, match="no 'encoder' component"):
        copy_tok2vec_weights(str(path), "encoder", target)


# --- v3: shared outputs for grouped types, inflected triggers, the cue window, pair structure ------------


def test_grouped_logits_share_one_probability_and_backpropagate_exactly():
    from workbench.relations.model import grouped_logits

    layer = grouped_logits()
    # Columns: type 0 alone, types 1 and 2 in a group whose shared output is column 3.
    layer.attrs["groups"] = [(3, [1, 2])]
    raw = numpy.asarray([[0.3, 1.0, -1.0, 2.0], [-0.5, 0.0, 0.0, -1.0]], dtype="f")
    logits, backprop = layer.begin_update(raw)
    probs = 1 / (1 + numpy.exp(-logits))
    sigmoid = lambda x: 1 / (1 + numpy.exp(-x))  # noqa: E731
    # Row 0 by hand: sigmoid(2) = 0.880797; softmax(1, -1) = (0.880797, 0.119203);
    # p1 = 0.880797 * 0.880797 = 0.775803, p2 = 0.880797 * 0.119203 = 0.104994; type 0 keeps its logit.
    assert probs[0].tolist() == pytest.approx([sigmoid(0.3), 0.775803, 0.104994], abs=1e-5)
    # Row 1: sigmoid(-1) = 0.268941 shared evenly between two equal members.
    assert probs[1, 1:].tolist() == pytest.approx([0.134471, 0.134471], abs=1e-5)
    # The members' probabilities add up to the group's.
    assert probs[:, 1:].sum(axis=1) == pytest.approx(sigmoid(raw[:, 3]), abs=1e-6)
    # Binary cross-entropy through the layer against finite differences.
    targets = numpy.asarray([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype="f")

    def loss(values):
        p = 1 / (1 + numpy.exp(-layer.predict(values.astype("f")).astype("float64")))
        return float(-(targets * numpy.log(p) + (1 - targets) * numpy.log(1 - p)).sum())

    d_raw = backprop((probs - targets).astype("f"))
    eps = 1e-3
    for row in range(2):
        for col in range(4):
            step = numpy.zeros_like(raw)
            step[row, col] = eps
            assert d_raw[row, col] == pytest.approx((loss(raw + step) - loss(raw - step)) / (2 * eps), abs=1e-3), (row, col)


def test_inflected_triggers_match_regular_forms_only_where_asked():
    doc = spacy.blank("en").make_doc("Ann calls Bob after meetings and phoned Eve while speaking")
    triggers = [["call", "meeting"], ["phone", "speak"]]
    plain = trigger_cues(doc, triggers)
    inflected = trigger_cues(doc, triggers, inflected=True)
    # Exact forms only: none of "calls", "meetings", "phoned", "speaking" is a listed word.
    assert not plain.any()
    # Inflected: calls (1), meetings (4) for the first type; phoned (6), speaking (9) for the second.
    assert inflected[:, 0].nonzero()[0].tolist() == [1, 4]
    assert inflected[:, 1].nonzero()[0].tolist() == [6, 9]


def entity_doc(text: str, ents: list[tuple[str, str]]):
    doc = spacy.blank("en").make_doc(text)
    doc.ents = [doc.char_span(text.index(surface), text.index(surface) + len(surface), label=label) for surface, label in ents]
    return doc


def test_the_cue_window_counts_words_outside_entities():
    from workbench.relations.candidates import Candidate
    from workbench.relations.model import _candidate_cues, _candidate_cues_v3

    text = "a meeting between Turkish Foreign Minister Hakan Fidan and Ismail Haniyeh"
    doc = entity_doc(text, [("Turkish", "NORP"), ("Foreign Minister", "ROLE"), ("Hakan Fidan", "PERSON"), ("Ismail Haniyeh", "PERSON")])
    pair = Candidate((6, 8), (9, 11), "PERSON", "PERSON", ("MET",))
    # "meeting" is 5 tokens before Hakan Fidan, but only 2 words outside entities ("between", "meeting").
    assert _candidate_cues([doc], [[pair]], [["meeting"]]).tolist() == [[0.0]]
    assert _candidate_cues_v3([doc], [[pair]], [["meeting"]]).tolist() == [[1.0]]


def test_pair_structure_tells_listed_counterparts_and_one_persons_two_names():
    from workbench.relations.candidates import Candidate
    from workbench.relations.model import _outside_entities, pair_structure

    text = "Fidan spoke with Greek Foreign Minister George Gerapetritis and Nechirvan Barzani ; Donald Trump said Trump left"
    doc = entity_doc(text, [("Fidan", "PERSON"), ("Greek", "NORP"), ("Foreign Minister", "ROLE"), ("George Gerapetritis", "PERSON"),
                            ("Nechirvan Barzani", "PERSON"), ("Donald Trump", "PERSON")])
    trump = doc.char_span(text.rindex("Trump"), text.rindex("Trump") + len("Trump"), label="PERSON")
    doc.ents = [*doc.ents, trump]
    person = {e.text: (e.start, e.end) for e in doc.ents if e.label_ == "PERSON" and e.start != trump.start}
    outside = _outside_entities(doc)

    def structure(head, tail):
        return pair_structure(doc, outside, Candidate(head, tail, "PERSON", "PERSON", ("SPOKE_WITH",)))

    assert structure(person["Fidan"], person["George Gerapetritis"]) == ("words", False)  # "spoke with" between
    assert structure(person["George Gerapetritis"], person["Nechirvan Barzani"]) == ("list", False)  # only "and"
    assert structure(person["Donald Trump"], (trump.start, trump.end)) == ("words", True)  # "said"; "Trump" in both


GROUPED = """\
name: t
entities:
  PERSON: {}
  ORG: {}
relations:
  MET:
    head: [PERSON]
    tail: [PERSON]
    symmetric: true
    group: CONTACT
  SPOKE_WITH:
    head: [PERSON]
    tail: [PERSON, ORG]
    symmetric: true
    group: CONTACT
"""


def test_a_group_needs_one_signature(tmp_path):
    from workbench.labels import load_labels

    path = tmp_path / "labels.yml"
    path.write_text(GROUPED, encoding="utf-8")
    with pytest.raises(WorkbenchError) as caught:
        load_labels(path)
    # Line 15 is SPOKE_WITH's group.
    assert str(caught.value) == f"{path}:15: relations.SPOKE_WITH.group: group 'CONTACT': SPOKE_WITH needs the same head, tail and symmetric as MET"
    path.write_text(GROUPED.replace("tail: [PERSON, ORG]", "tail: [PERSON]"), encoding="utf-8")
    assert load_labels(path).groups == {"CONTACT": ["MET", "SPOKE_WITH"]}
    assert load_labels(LABELS).groups == {"CONTACT": ["MET", "SPOKE_WITH"]}


def test_a_grouped_model_keeps_its_groups_through_to_disk(tmp_path):
    sentencizer = spacy.blank("en")
    sentencizer.add_pipe("sentencizer")
    gold = gold_doc(sentencizer, TEXT, ENTITIES, RELATIONS)
    nlp = tiny_relation_nlp("workbench.RelationModel.v3")
    nlp.initialize(lambda: [Example(nlp.make_doc(TEXT), gold)])
    component = nlp.get_pipe("relation_extractor")
    layer = next(node for node in component.model.walk() if node.name == "grouped_logits")
    # Outputs: HAS_ROLE, AFFILIATION, MET, SPOKE_WITH, then CONTACT (column 4) shared by MET (2) and SPOKE_WITH (3).
    assert component.labels == ("HAS_ROLE", "AFFILIATION", "MET", "SPOKE_WITH")
    assert layer.attrs["groups"] == [(4, [2, 3])]
    triggers = next(node for node in component.model.walk() if "triggers" in node.attrs).attrs["triggers"]
    assert triggers[4] == triggers[2] + triggers[3]  # the group's cue: either member's trigger words
    doc = gold_doc(sentencizer, TEXT, ENTITIES, [])
    before = component.predict([doc])[0].probs
    nlp.to_disk(tmp_path / "rel")
    loaded = spacy.load(tmp_path / "rel").get_pipe("relation_extractor")
    assert loaded.model.walk() and next(n for n in loaded.model.walk() if n.name == "grouped_logits").attrs["groups"] == [[4, [2, 3]]]
    assert numpy.allclose(loaded.predict([doc])[0].probs, before)


def test_entity_swap_copies_keep_every_relation_on_the_new_names():
    from workbench.docs import relation_spans
    from workbench.relations.augment import create_entity_swap_augmenter, gold_entities_augmenter

    sentencizer = spacy.blank("en")
    sentencizer.add_pipe("sentencizer")
    text = "Foreign Minister Hakan Fidan met Marco Rubio in Ankara . Rubio spoke ."
    gold = gold_doc(sentencizer, text, ENTITIES, RELATIONS)
    gold.ents = [*gold.ents, gold.char_span(text.rindex("Rubio"), text.rindex("Rubio") + 5, label="PERSON")]
    augment = create_entity_swap_augmenter(gold_entities_augmenter, copies=2, labels=["PERSON"], seed=0)
    original, *copies = list(augment(sentencizer, Example(sentencizer.make_doc(text), gold)))
    assert original.reference is gold and len(copies) == 2
    for copy in copies:
        ref = copy.reference
        names = [e.text for e in ref.ents if e.label_ == "PERSON"]
        # The three PERSON mentions get three different names of the pool (this doc's own three, permuted).
        assert sorted(names) == sorted(["Hakan Fidan", "Marco Rubio", "Rubio"])
        # Non-swapped labels and the words around stay; relations move with their entities.
        assert [(e.text, e.label_) for e in ref.ents if e.label_ != "PERSON"] == [("Foreign Minister", "ROLE"), ("Ankara", "GPE")]
        assert [(h.text, t.text, label) for h, t, label, _ in relation_spans(ref)] == [(names[0], "Foreign Minister", "HAS_ROLE"), (names[0], names[1], "MET")]
        assert [s.text.split()[-1] for s in ref.sents] == [".", "."]
        assert [(e.text, e.label_) for e in copy.predicted.ents] == [(e.text, e.label_) for e in ref.ents]
    assert [c.reference.text for c in copies] != [text, text]
