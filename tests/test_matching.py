"""Partial matching, error classes and the confusion matrix: our SemEval counts agree with nervaluate's."""

from __future__ import annotations

import pytest
import spacy
from nervaluate import Evaluator

from workbench.evaluation.evaluate import spans_of
from workbench.evaluation.matching import SCHEMES, Span, confusion_matrix, error_class, semeval_schemes
from workbench.docs import doc_to_record

LABELS = ["PERSON", "ORG", "GPE", "ROLE"]
COUNTS = ("correct", "incorrect", "partial", "missed", "spurious")

# (gold, predicted) per document; offsets are characters, ends exclusive.
FIXTURE_DOCS = [
    (  # exact hit, boundary error, label error, boundary+label error, spurious, missed
        [Span(0, 11, "PERSON"), Span(20, 36, "ROLE"), Span(40, 46, "GPE"), Span(50, 60, "ORG"), Span(70, 80, "PERSON")],
        [Span(0, 11, "PERSON"), Span(20, 28, "ROLE"), Span(40, 46, "ORG"), Span(50, 55, "PERSON"), Span(90, 95, "GPE")],
    ),
    (  # one prediction across two gold spans, one of its own label; two predictions inside one gold span
        [Span(0, 5, "GPE"), Span(6, 12, "ORG"), Span(20, 40, "ORG")],
        [Span(0, 12, "ORG"), Span(20, 25, "ORG"), Span(26, 40, "ORG")],
    ),
    ([], [Span(3, 8, "PERSON")]),  # nothing in gold
    ([Span(3, 8, "PERSON")], []),  # nothing predicted
]


def nervaluate_results(docs, labels):
    # nervaluate's ends are inclusive.
    def convert(spans):
        return [[{"label": s.label, "start": s.start, "end": s.end - 1} for s in doc] for doc in spans]

    gold, pred = convert([g for g, _ in docs]), convert([p for _, p in docs])
    return Evaluator(gold, pred, tags=labels, loader="dict").evaluate()


def assert_same(ours: dict, theirs, where: str) -> None:
    for key in COUNTS:
        assert ours[key] == getattr(theirs, key), f"{where}: {key}"
    for key in ("precision", "recall", "f1"):
        assert ours[key] == pytest.approx(getattr(theirs, key), abs=1e-6), f"{where}: {key}"


def compare_with_nervaluate(docs, labels) -> dict:
    ours = semeval_schemes(docs, labels)
    theirs = nervaluate_results(docs, labels)
    for scheme in SCHEMES:
        assert_same(ours[scheme]["micro"], theirs["overall"][scheme], scheme)
        for label, by_scheme in theirs["entities"].items():
            assert_same(ours[scheme]["per_label"][label], by_scheme[scheme], f"{scheme} {label}")
    return ours


def test_schemes_equal_nervaluate_on_every_kind_of_error():
    ours = compare_with_nervaluate(FIXTURE_DOCS, LABELS)
    strict, partial = ours["strict"]["micro"], ours["partial"]["micro"]
    # The fixtures exercise every outcome, so a scheme that ignored one could not pass.
    assert strict["correct"] and strict["incorrect"] and strict["missed"] and strict["spurious"]
    assert partial["partial"] and partial["precision"] > strict["precision"]


def test_schemes_equal_nervaluate_on_a_real_pipeline(gold_records):
    from conftest import ruler_nlp

    nlp = ruler_nlp(gold_records)
    docs = [(spans_of(r), spans_of(doc_to_record(nlp(r.text), r.doc_id))) for r in gold_records]
    labels = sorted({s.label for g, p in docs for s in g + p})
    ours = compare_with_nervaluate(docs, labels)
    assert 0 < ours["strict"]["micro"]["precision"] < ours["partial"]["micro"]["precision"]


def test_strict_scheme_equals_strict_scores(gold_records, scheme):
    from conftest import ruler_nlp

    from workbench.evaluation.evaluate import evaluate_records

    nlp = ruler_nlp(gold_records)
    metrics = evaluate_records(nlp, gold_records, "ruler", None, scheme).metrics()["ner"]
    strict = metrics["partial"]["strict"]["micro"]
    assert strict["correct"] == metrics["micro"]["tp"]
    assert strict["precision"] == pytest.approx(metrics["micro"]["precision"], abs=1e-6)
    assert strict["recall"] == pytest.approx(metrics["micro"]["recall"], abs=1e-6)


@pytest.mark.parametrize(
    "span, others, unmatched, expected",
    [
        (Span(20, 28, "ROLE"), [Span(20, 36, "ROLE")], "spurious", "boundary"),
        (Span(40, 46, "ORG"), [Span(40, 46, "GPE")], "spurious", "label"),
        (Span(50, 55, "PERSON"), [Span(50, 60, "ORG")], "spurious", "boundary+label"),
        (Span(90, 95, "GPE"), [Span(50, 60, "ORG")], "spurious", "spurious"),
        (Span(70, 80, "PERSON"), [Span(80, 85, "PERSON")], "missed", "missed"),  # touching is not overlapping
        # Same span with another label beats an overlap with the same label.
        (Span(0, 10, "ORG"), [Span(0, 10, "GPE"), Span(5, 12, "ORG")], "spurious", "label"),
    ],
)
def test_error_classes(span, others, unmatched, expected):
    assert error_class(span, others, unmatched) == expected


def test_evaluation_counts_every_error_once_by_class(gold_records, scheme):
    from conftest import ruler_nlp

    from workbench.evaluation.evaluate import evaluate_records

    ner = evaluate_records(ruler_nlp(gold_records), gold_records, "ruler", None, scheme).metrics()["ner"]
    assert sum(ner["errors"]["FP"].values()) == ner["micro"]["fp"]
    assert sum(ner["errors"]["FN"].values()) == ner["micro"]["fn"]
    # The ruler's deliberate mistake, "Fidan" as GPE, is a label error on both sides; names it
    # never saw are missed; "Gulf" for the gold "Persian Gulf" is a boundary error.
    assert ner["errors"]["FP"]["label"] == ner["errors"]["FN"]["label"] > 0
    assert ner["errors"]["FN"]["missed"] > 0 and ner["errors"]["FP"]["boundary"] > 0


def test_confusion_matrix_accounts_for_every_span():
    confusion = confusion_matrix(FIXTURE_DOCS, LABELS)
    names, matrix = confusion["labels"], confusion["matrix"]
    assert names[-1] == "none" and sorted(names[:-1]) == sorted(LABELS)
    gold, pred = [s for g, _ in FIXTURE_DOCS for s in g], [s for _, p in FIXTURE_DOCS for s in p]
    for i, label in enumerate(names[:-1]):
        assert sum(matrix[i]) == sum(s.label == label for s in gold), label  # rows: every gold span once
        assert sum(row[i] for row in matrix) == sum(s.label == label for s in pred), label  # columns: every prediction once
    at = {(g, p): matrix[names.index(g)][names.index(p)] for g in names for p in names}
    assert at[("GPE", "ORG")] == 1  # the label error
    assert at[("PERSON", "none")] == 2 and at[("none", "GPE")] == 1 and at[("none", "PERSON")] == 1
