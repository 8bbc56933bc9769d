"""How often the evaluation's bootstrap interval holds the true figure, by number of documents.

The evidence for bootstrap.MIN_INTERVAL_DOCUMENTS. A simulated population of documents:
each has 1 + Poisson(`entities`) predicted entities, of which a share drawn from a Beta
distribution (mean `precision`, standard deviation `spread`: documents differ, as one
article's style or names do) is right. The true figure is the population's micro
precision, `precision` itself. For each number of documents n, `trials` sets of n
documents are drawn and each gets its interval from the evaluation's own code
(bootstrap_intervals, `samples` resamples); coverage is the share of intervals that hold
the true figure. A nominal 95% interval should hold it 95% of the time.

No interval can do better than `straddled`, the share of sets whose documents' own
precisions straddle the true one: every resample's figure is a weighted mean of the
documents' figures, so the interval lies between the lowest and the highest of them.
Whatever the population, n documents straddle a figure at most 1 - 2 * 0.5**n of the
time (when their figures do not tie with it): 50% with 2, 75% with 3, 94% with 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy
from tqdm import tqdm

from workbench.metrics import BootstrapSettings, Counts, LabelledScores, bootstrap_intervals, percent

LABEL = "ENT"


@dataclass(frozen=True)
class CoverageSettings:
    documents: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 10, 15, 20, 30)
    trials: int = 2000
    samples: int = 1000
    level: float = 0.95
    precision: float = 0.85
    spread: float = 0.08
    entities: int = 60
    seed: int = 0


@dataclass(frozen=True)
class CoverageRow:
    documents: int
    coverage: float  # share of intervals holding the true precision
    straddled: float  # share of sets whose documents' precisions straddle it: no interval does better
    mean_width: float


def _beta(mean: float, sd: float) -> tuple[float, float]:
    """Beta parameters of this mean and standard deviation."""
    concentration = mean * (1 - mean) / sd**2 - 1
    if concentration <= 0:
        raise ValueError(f"a spread of {sd} is too wide for a mean of {mean}")
    return mean * concentration, (1 - mean) * concentration


def simulated_documents(rng: numpy.random.Generator, n: int, settings: CoverageSettings) -> list[LabelledScores]:
    a, b = _beta(settings.precision, settings.spread)
    predicted = 1 + rng.poisson(settings.entities, n)
    right = rng.binomial(predicted, rng.beta(a, b, n))
    return [LabelledScores({LABEL: Counts(int(tp), int(m - tp), 0)}) for tp, m in zip(right, predicted)]


def coverage_row(n: int, settings: CoverageSettings, rng: numpy.random.Generator) -> CoverageRow:
    held = straddled = 0
    widths = []
    for trial in range(settings.trials):
        docs = simulated_documents(rng, n, settings)
        # The evaluation's own intervals, without the minimum this measures the reason for.
        bootstrap = BootstrapSettings(settings.samples, seed=trial, level=settings.level, min_documents=2)
        interval = bootstrap_intervals(docs, [LABEL], bootstrap)["micro"]["precision"]
        held += interval["lo"] <= settings.precision <= interval["hi"]
        own = [doc.micro().precision for doc in docs]
        straddled += min(own) <= settings.precision <= max(own)
        widths.append(interval["hi"] - interval["lo"])
    return CoverageRow(n, held / settings.trials, straddled / settings.trials, float(numpy.mean(widths)))


def bootstrap_coverage(settings: CoverageSettings) -> list[CoverageRow]:
    rng = numpy.random.default_rng(settings.seed)
    return [coverage_row(n, settings, rng) for n in tqdm(settings.documents, desc="coverage", unit="size")]


def format_coverage(rows: list[CoverageRow], settings: CoverageSettings) -> str:
    level = round(100 * settings.level)
    lines = [
        f"{level}% percentile bootstrap over documents, {settings.trials} trials per size, {settings.samples} resamples each; "
        f"documents: 1 + Poisson({settings.entities}) predicted entities, precision Beta(mean {settings.precision}, sd {settings.spread})",
        f"{'documents':>9}  {'coverage':>8}  {'straddled':>9}  {'mean width':>10}",
    ]
    lines += [f"{r.documents:>9}  {percent(r.coverage):>8}  {percent(r.straddled):>9}  {r.mean_width:>10.3f}" for r in rows]
    return "\n".join(lines)
