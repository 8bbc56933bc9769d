"""Bootstrap intervals over documents: seeded, computed from resampled counts, none below the minimum of documents."""

from __future__ import annotations

import numpy
import pytest

from workbench.metrics import MIN_INTERVAL_DOCUMENTS, BootstrapSettings, Counts, LabelledScores, bootstrap_intervals


def doc(**per_label: tuple[int, int, int]) -> LabelledScores:
    return LabelledScores({label: Counts(*counts) for label, counts in per_label.items()})


# The mechanics below are tested on a handful of documents, under the minimum that evaluate keeps.
FEW = {"min_documents": 2}

DOCS = [
    doc(PERSON=(8, 1, 2), GPE=(5, 0, 1)),
    doc(PERSON=(2, 3, 4), GPE=(6, 2, 0)),
    doc(PERSON=(5, 0, 0)),
    doc(PERSON=(1, 4, 3), GPE=(0, 1, 2)),
    doc(GPE=(9, 1, 1)),
]


def naive_micro_precision(per_doc, settings):
    """The same resamples, summed one by one: what the matrix product must reproduce."""
    rng = numpy.random.default_rng(settings.seed)
    draws = rng.integers(0, len(per_doc), size=(settings.samples, len(per_doc)))
    values = []
    for sample in draws:
        total = LabelledScores.total(per_doc[i] for i in sample).micro()
        values.append(total.precision)
    return numpy.percentile(values, [2.5, 97.5])


def test_intervals_are_the_percentiles_of_resampled_counts():
    settings = BootstrapSettings(samples=300, seed=7, **FEW)
    ci = bootstrap_intervals(DOCS, ["PERSON", "GPE"], settings)
    lo, hi = naive_micro_precision(DOCS, settings)
    assert ci["micro"]["precision"] == {"lo": pytest.approx(lo, abs=1e-6), "hi": pytest.approx(hi, abs=1e-6)}
    point = LabelledScores.total(DOCS).micro()
    for metric in ("precision", "recall", "f1"):
        interval = ci["micro"][metric]
        assert interval["lo"] < getattr(point, metric) < interval["hi"], metric
    assert set(ci["per_label"]) == {"PERSON", "GPE"}


def test_same_seed_same_interval_other_seed_other_interval():
    first = bootstrap_intervals(DOCS, ["PERSON", "GPE"], BootstrapSettings(200, seed=1, **FEW))
    assert bootstrap_intervals(DOCS, ["PERSON", "GPE"], BootstrapSettings(200, seed=1, **FEW)) == first
    assert bootstrap_intervals(DOCS, ["PERSON", "GPE"], BootstrapSettings(200, seed=2, **FEW)) != first


def test_identical_documents_give_a_zero_width_interval():
    ci = bootstrap_intervals([doc(PERSON=(3, 1, 2))] * 4, ["PERSON"], BootstrapSettings(100, **FEW))
    assert ci["micro"]["precision"] == {"lo": 0.75, "hi": 0.75}


def test_one_document_or_no_samples_gives_no_interval():
    settings = BootstrapSettings(100, **FEW)
    assert bootstrap_intervals(DOCS[:1], ["PERSON"], settings) is None
    assert settings.describe(1)["intervals"] is False and "1 document" in settings.describe(1)["note"]
    assert bootstrap_intervals(DOCS, ["PERSON"], BootstrapSettings(0)) is None


def test_a_label_never_predicted_has_no_precision_interval():
    ci = bootstrap_intervals([doc(ORG=(0, 0, 2)), doc(ORG=(0, 0, 1))], ["ORG"], BootstrapSettings(50, **FEW))
    assert ci["per_label"]["ORG"]["precision"] is None
    assert ci["per_label"]["ORG"]["recall"] == {"lo": 0.0, "hi": 0.0}


def test_fewer_documents_than_the_minimum_give_no_interval():
    # 10: where a nominal 95% interval holds the true figure about 90% of the time (benchmark bootstrap-coverage).
    assert MIN_INTERVAL_DOCUMENTS == 10
    settings = BootstrapSettings(200)
    nine, ten = (DOCS * 2)[:9], DOCS * 2
    assert bootstrap_intervals(nine, ["PERSON", "GPE"], settings) is None
    assert bootstrap_intervals(ten, ["PERSON", "GPE"], settings)["micro"]["precision"] is not None
    described = settings.describe(9)
    assert described["intervals"] is False and described["min_documents"] == 10
    assert described["note"].startswith("no intervals: they would rest on 9 documents, fewer than 10,")


def test_an_interval_never_reaches_past_the_documents_own_figures():
    # Every resample's micro figure is a weighted mean of the documents' figures: the reason few documents
    # cannot give an honest interval (two documents straddle the true figure at most half the time).
    rng = numpy.random.default_rng(3)
    for trial in range(50):
        n = int(rng.integers(2, 8))
        docs = [doc(PERSON=(int(tp), int(fp), int(fn))) for tp, fp, fn in rng.integers(1, 20, size=(n, 3))]
        ci = bootstrap_intervals(docs, ["PERSON"], BootstrapSettings(200, seed=trial, **FEW))["micro"]
        for metric in ("precision", "recall", "f1"):
            own = [getattr(d.micro(), metric) for d in docs]
            assert min(own) - 1e-6 <= ci[metric]["lo"] <= ci[metric]["hi"] <= max(own) + 1e-6, (trial, metric)
        if n == 2:
            # With two documents the 2.5th and 97.5th percentiles are the two documents themselves.
            own = sorted(d.micro().precision for d in docs)
            assert ci["precision"] == {"lo": pytest.approx(own[0], abs=1e-6), "hi": pytest.approx(own[1], abs=1e-6)}


def test_coverage_simulation_measures_the_evaluations_own_intervals():
    from workbench.benchmarks.bootstrap_coverage import CoverageSettings, coverage_row

    settings = CoverageSettings(trials=300, samples=300)
    two = coverage_row(2, settings, numpy.random.default_rng(0))
    twenty = coverage_row(20, settings, numpy.random.default_rng(0))
    # Two documents: the interval is the range of their own figures, so it holds the truth exactly when they straddle it.
    assert two.coverage == two.straddled
    assert abs(two.coverage - 0.5) < 0.1
    assert twenty.coverage > two.coverage + 0.3 and twenty.straddled == 1.0
