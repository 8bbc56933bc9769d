"""Bootstrap intervals over documents: seeded, computed from resampled counts, none from a single document."""

from __future__ import annotations

import numpy
import pytest

from workbench.metrics import BootstrapSettings, bootstrap_intervals
from workbench.metrics import Counts, LabelledScores


def doc(**per_label: tuple[int, int, int]) -> LabelledScores:
    return LabelledScores({label: Counts(*counts) for label, counts in per_label.items()})


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
    settings = BootstrapSettings(samples=300, seed=7)
    ci = bootstrap_intervals(DOCS, ["PERSON", "GPE"], settings)
    lo, hi = naive_micro_precision(DOCS, settings)
    assert ci["micro"]["precision"] == {"lo": pytest.approx(lo, abs=1e-6), "hi": pytest.approx(hi, abs=1e-6)}
    point = LabelledScores.total(DOCS).micro()
    for metric in ("precision", "recall", "f1"):
        interval = ci["micro"][metric]
        assert interval["lo"] < getattr(point, metric) < interval["hi"], metric
    assert set(ci["per_label"]) == {"PERSON", "GPE"}


def test_same_seed_same_interval_other_seed_other_interval():
    first = bootstrap_intervals(DOCS, ["PERSON", "GPE"], BootstrapSettings(200, seed=1))
    assert bootstrap_intervals(DOCS, ["PERSON", "GPE"], BootstrapSettings(200, seed=1)) == first
    assert bootstrap_intervals(DOCS, ["PERSON", "GPE"], BootstrapSettings(200, seed=2)) != first


def test_identical_documents_give_a_zero_width_interval():
    ci = bootstrap_intervals([doc(PERSON=(3, 1, 2))] * 4, ["PERSON"], BootstrapSettings(100))
    assert ci["micro"]["precision"] == {"lo": 0.75, "hi": 0.75}


def test_one_document_or_no_samples_gives_no_interval():
    settings = BootstrapSettings(100)
    assert bootstrap_intervals(DOCS[:1], ["PERSON"], settings) is None
    assert settings.describe(1)["intervals"] is False and "1 document" in settings.describe(1)["note"]
    assert bootstrap_intervals(DOCS, ["PERSON"], BootstrapSettings(0)) is None


def test_a_label_never_predicted_has_no_precision_interval():
    ci = bootstrap_intervals([doc(ORG=(0, 0, 2)), doc(ORG=(0, 0, 1))], ["ORG"], BootstrapSettings(50))
    assert ci["per_label"]["ORG"]["precision"] is None
    assert ci["per_label"]["ORG"]["recall"] == {"lo": 0.0, "hi": 0.0}
