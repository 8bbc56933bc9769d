"""The recall ceiling (workbench.relations.reach) and cross-sentence candidates, on hand-made documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.tokens import Span
from typer.testing import CliRunner

import workbench.docs  # noqa: F401  registers doc._.relations
from workbench.cli import app
from workbench.labels import load_labels
from workbench.records import AnnotatedDoc, Entity, Relation
from workbench.relations.candidates import generate_candidates
from workbench.relations.reach import REASONS, Reach, records_reach, relation_reach
from workbench.docs import make_gold_nlp

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "configs" / "labels.yml"

# Tokens: 0 Fidan 1 met 2 Rubio 3 in 4 Ankara 5 . | 6 He 7 then 8 phoned 9 Wang 10 Yi 11 from 12 Paris 13 .
# Two sentences (the sentencizer cuts after token 5).
TEXT = "Fidan met Rubio in Ankara . He then phoned Wang Yi from Paris ."
ENTS = [(0, 1, "PERSON"), (2, 3, "PERSON"), (4, 5, "GPE"), (9, 11, "PERSON"), (12, 13, "GPE")]
RELATIONS = [
    ((0, 1), (2, 3), "MET"),            # same sentence: reachable
    ((2, 3), (0, 1), "MET"),            # the same symmetric relation written tail-first: counted once
    ((0, 1), (6, 7), "MET"),            # "He" is not an entity span: not_an_entity
    ((9, 11), (0, 1), "SPOKE_WITH"),    # other sentence, 8 tokens between (1..8): reachable at max_distance >= 8
    ((0, 1), (4, 5), "AFFILIATION"),    # same sentence: reachable
    ((4, 5), (0, 1), "AFFILIATION"),    # GPE -> PERSON: the signature says PERSON -> GPE/ORG/NORP: signature
    ((0, 1), (12, 13), "AFFILIATION"),  # other sentence, 11 tokens between (1..11): beyond the window below 11
    ((0, 1), (12, 13), "HAS_ROLE"),     # PERSON -> GPE is no HAS_ROLE: signature
    ((0, 1), (2, 3), "FUNDED"),         # a type the scheme lacks: signature
]


@pytest.fixture(scope="module")
def scheme():
    return load_labels(LABELS)


@pytest.fixture(scope="module")
def doc():
    doc = make_gold_nlp()(TEXT)
    doc.ents = [Span(doc, start, end, label=label) for start, end, label in ENTS]
    doc._.relations = [{"head": list(h), "tail": list(t), "label": label} for h, t, label in RELATIONS]
    doc._.doc_id = "fixture"
    return doc


def reasons(reach: Reach, name: str) -> dict:
    return {k: v for k, v in reach.per_type[name].reasons.items() if v}


def test_reach_per_type_and_reasons_at_the_default_window(doc, scheme):
    assert [s.start for s in doc.sents] == [0, 6]
    reach = relation_reach([doc], scheme, max_distance=10)
    # By hand, from the comments on RELATIONS (MET's duplicate counted once):
    # MET 2 gold, 1 reachable, 1 not an entity; SPOKE_WITH 1 of 1; AFFILIATION 1 of 3 (1 signature,
    # 1 beyond the window: 11 > 10); HAS_ROLE 0 of 1 (signature); FUNDED 0 of 1 (signature).
    table = {name: (row.gold, row.reachable) for name, row in reach.per_type.items()}
    assert table == {"HAS_ROLE": (1, 0), "AFFILIATION": (3, 1), "MET": (2, 1), "SPOKE_WITH": (1, 1), "FUNDED": (1, 0)}
    assert reasons(reach, "MET") == {"not_an_entity": 1}
    assert reasons(reach, "AFFILIATION") == {"signature": 1, "beyond_window": 1}
    assert reasons(reach, "HAS_ROLE") == {"signature": 1} and reasons(reach, "FUNDED") == {"signature": 1}
    micro = reach.micro
    assert (micro.gold, micro.reachable, micro.share) == (8, 3, 3 / 8)
    assert micro.reasons == {"not_an_entity": 1, "signature": 3, "beyond_window": 1, "other": 0}
    beyond = [u for u in reach.unreachable if u.reason == "beyond_window"]
    assert [(u.type, u.head, u.tail, u.distance, u.same_sentence) for u in beyond] == [("AFFILIATION", "Fidan", "Paris", 11, False)]
    assert reach.to_dict()["per_type"]["AFFILIATION"] == {
        "gold": 3, "reachable": 1, "share": round(1 / 3, 6),
        "unreachable": {"not_an_entity": 0, "signature": 1, "beyond_window": 1, "other": 0},
    }


@pytest.mark.parametrize(
    "max_distance, reachable, beyond",
    [
        (7, 2, 2),   # SPOKE_WITH (8 between) and AFFILIATION Fidan-Paris (11) out of reach
        (8, 3, 1),   # SPOKE_WITH comes in
        (11, 4, 0),  # so does Fidan-Paris
    ],
)
def test_the_window_moves_only_cross_sentence_relations(doc, scheme, max_distance, reachable, beyond):
    micro = relation_reach([doc], scheme, max_distance).micro
    assert (micro.reachable, micro.reasons["beyond_window"]) == (reachable, beyond)
    # Same-sentence relations and the other reasons do not depend on the window.
    assert (micro.gold, micro.reasons["signature"], micro.reasons["not_an_entity"]) == (8, 3, 1)


def test_every_reachable_relation_is_a_generated_candidate(doc, scheme):
    """Cross-check with the generator itself: reachable = gold keys among its (head, tail, allowed type) triples."""
    for max_distance in (0, 8, 10, 11):
        triples = {(c.head, c.tail, t) for c in generate_candidates(doc, scheme, max_distance) for t in c.allowed}
        gold = {((0, 1), (2, 3), "MET"), ((0, 1), (9, 11), "SPOKE_WITH"), ((0, 1), (4, 5), "AFFILIATION"),
                ((0, 1), (12, 13), "AFFILIATION")}
        assert relation_reach([doc], scheme, max_distance).micro.reachable == len(gold & triples)


def record(doc_id: str, text: str, spans: list[tuple[str, str]], relations: list[tuple[int, int, str]]) -> AnnotatedDoc:
    entities = [Entity(i, label, text.index(surface), text.index(surface) + len(surface)) for i, (surface, label) in enumerate(spans, 1)]
    return AnnotatedDoc(doc_id, text, entities, [Relation(i, h, t, label) for i, (h, t, label) in enumerate(relations, 1)])


# A news-style paragraph: the call is stated in one sentence, its other party in the next.
# Tokens: 0 Turkish 1 Foreign 2 Minister 3 Hakan 4 Fidan 5 spoke 6 by 7 phone 8 on 9 Monday 10 . |
#         11 He 12 discussed 13 Gaza 14 with 15 Marco 16 Rubio 17 , 18 the 19 US 20 Secretary 21 of 22 State 23 . |
#         24 Later 25 , 26 officials 27 said 28 talks 29 would 30 continue 31 in 32 the 33 coming 34 weeks 35 ,
#         36 and 37 that 38 Sergei 39 Lavrov 40 was 41 informed 42 .
CALL = (
    "Turkish Foreign Minister Hakan Fidan spoke by phone on Monday. He discussed Gaza with Marco Rubio, "
    "the US Secretary of State. Later, officials said talks would continue in the coming weeks, "
    "and that Sergei Lavrov was informed."
)
CALL_SPANS = [("Hakan Fidan", "PERSON"), ("Marco Rubio", "PERSON"), ("Sergei Lavrov", "PERSON")]


def test_cross_sentence_relation_inside_the_window_is_a_candidate(scheme):
    gold = record("call", CALL, CALL_SPANS, [(1, 2, "SPOKE_WITH"), (1, 3, "SPOKE_WITH")])
    nlp = make_gold_nlp()
    doc = nlp(workbench.docs.record_to_doc(nlp.make_doc, gold))
    assert [s.start for s in doc.sents] == [0, 11, 24]  # real sentence boundaries, from the sentencizer
    fidan, rubio, lavrov = [(e.start, e.end) for e in doc.ents]
    assert (fidan, rubio, lavrov) == ((3, 5), (15, 17), (38, 40))
    # Fidan-Rubio: other sentence, tokens 5..14 between: 10, inside the default window of 10.
    pairs = {(c.head, c.tail): c.allowed for c in generate_candidates(doc, scheme, max_distance=10)}
    assert pairs == {(fidan, rubio): ("MET", "SPOKE_WITH")}
    # Fidan-Lavrov: tokens 5..37 between: 33, beyond it; Rubio-Lavrov (17..37: 21) too.
    assert (fidan, lavrov) not in pairs and (rubio, lavrov) not in pairs
    assert generate_candidates(doc, scheme, max_distance=9) == []
    reach = records_reach([gold], scheme, max_distance=10)
    assert (reach.per_type["SPOKE_WITH"].gold, reach.per_type["SPOKE_WITH"].reachable) == (2, 1)
    assert [(u.head, u.tail, u.distance, u.reason) for u in reach.unreachable] == [("Hakan Fidan", "Sergei Lavrov", 33, "beyond_window")]


def test_combined_reach_sums_the_parts(doc, scheme):
    call = records_reach([record("call", CALL, CALL_SPANS, [(1, 2, "SPOKE_WITH")])], scheme, 10)
    both = Reach.combine([relation_reach([doc], scheme, 10), call])
    # 8 gold and 3 reachable in the first part, 1 and 1 in the second.
    assert (both.documents, both.micro.gold, both.micro.reachable) == (2, 9, 4)
    assert (both.per_type["SPOKE_WITH"].gold, both.per_type["SPOKE_WITH"].reachable) == (2, 2)
    with pytest.raises(ValueError):
        Reach.combine([call, records_reach([], scheme, 11)])


def test_reach_command_prints_the_table_and_writes_json(tmp_path, scheme):
    path = tmp_path / "gold.jsonl"
    gold = record("call", CALL, CALL_SPANS, [(1, 2, "SPOKE_WITH"), (1, 3, "SPOKE_WITH"), (2, 1, "HAS_ROLE")])
    path.write_text(json.dumps(gold.to_dict()) + "\n", encoding="utf-8")
    out = tmp_path / "reach.json"
    result = CliRunner().invoke(app, ["annotations", "reach", str(path), "--labels", str(LABELS), "--json", str(out)])
    assert result.exit_code == 0, result.output
    # SPOKE_WITH: 1 of 2 (Fidan-Lavrov beyond the window); HAS_ROLE: PERSON -> PERSON breaks its signature.
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[2:7]}
    assert rows["SPOKE_WITH"] == ["2", "1", "50.0%", "0", "0", "1", "0"]
    assert rows["HAS_ROLE"] == ["1", "0", "0.0%", "0", "1", "0", "0"]
    assert rows["all"] == ["(micro)", "3", "1", "33.3%", "0", "1", "1", "0"]
    assert "unreachable SPOKE_WITH in call: 'Hakan Fidan' -> 'Sergei Lavrov', beyond window (33 tokens apart" in result.output
    written = json.loads(out.read_text())
    assert written["max_distance"] == 10 and written["micro"]["share"] == round(1 / 3, 6)
    assert set(written["reasons"]) == set(REASONS)
    bad = CliRunner().invoke(app, ["annotations", "reach", str(path), "--labels", str(LABELS), "--max-distance", "-1"])
    assert bad.exit_code != 0 and "--max-distance must be 0 or more" in bad.output


# --- in evaluation reports -------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated(ruler_rel_model, gold_records, scheme):
    from workbench.evaluation.evaluate import evaluate_records
    from workbench.predict import load_pipeline

    nlp = load_pipeline(ruler_rel_model)
    return nlp, evaluate_records(nlp, gold_records, "ruler-rel", None, scheme)


def test_evaluation_reports_the_reach_of_the_models_candidates(evaluated, gold_records, scheme, tmp_path):
    from workbench.evaluation.report import write_report

    nlp, evaluation = evaluated
    window = nlp.get_pipe("relation_extractor").max_distance
    metrics = evaluation.metrics()
    reach = metrics["rel"]["reach"]
    # The same figures as `annotations reach` computes from the records with the model's window.
    assert reach == records_reach(gold_records, scheme, window).to_dict()
    assert reach["micro"]["gold"] == sum(len(r.relations) for r in gold_records)
    # The ceiling holds: on gold entities no type finds more relations than its candidates reach.
    for name, row in metrics["rel"]["gold_entities"]["per_label"].items():
        assert row["tp"] <= reach["per_type"][name]["reachable"]
    report = (write_report(evaluation, tmp_path / "report", html=False)["report"]).read_text()
    assert "### Reach (recall ceiling)" in report
    micro_row = next(line for line in report.splitlines() if line.startswith("| **all (micro)**"))
    assert f"**{reach['micro']['gold']}** | **{reach['micro']['reachable']}**" in micro_row


def test_crossval_pools_the_folds_reach(evaluated, gold_records, scheme):
    from workbench.evaluation.evaluate import evaluate_records
    from workbench.experiments.crossval import pool_evaluations

    nlp, whole = evaluated
    folds = [evaluate_records(nlp, part, "fold", None, scheme) for part in (gold_records[:2], gold_records[2:])]
    pooled = pool_evaluations(folds, "pooled").metrics()["rel"]["reach"]
    assert pooled == whole.metrics()["rel"]["reach"]


def test_benchmark_summary_prints_reach_per_split_and_type(doc, scheme):
    from workbench.benchmarks.run import reach_summary

    call = records_reach([record("call", CALL, CALL_SPANS, [(1, 2, "SPOKE_WITH"), (1, 3, "SPOKE_WITH")])], scheme, 10)
    reach = {"train": relation_reach([doc], scheme, 10).to_dict(), "test": call.to_dict()}
    # train: 3 of the fixture's 8 (above); test: Fidan-Rubio reached, Fidan-Lavrov not.
    assert reach_summary(reach) == [
        "reach (gold relations the candidates can reach, max_distance 10): train 37.5% (3/8), test 50.0% (1/2)",
        "  test per type: HAS_ROLE – (0/0), AFFILIATION – (0/0), MET – (0/0), SPOKE_WITH 50.0% (1/2)",
    ]
