"""Simulated active learning on a benchmark: which order of annotation reaches a good model with fewest sentences.

The benchmark's train split is the unlabelled pool; its gold plays the annotator. Each seed
starts from the same random sentences for every strategy, then each round adds the next
`step` sentences the strategy ranks first (workbench.annotations.ranking, with the model of
the round before), trains NER + REL and scores on dev: one trial (experiments.trial) per model. A model
trained on the whole pool with the same settings gives the "full-data" F1 that the
sentences-to-target figures are measured against.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm import tqdm

from workbench.annotations.ranking import ORDERS, random_order, rank_documents
from workbench.errors import WorkbenchError
from workbench.evaluation.evaluate import Evaluation
from workbench.experiments.trial import Scoring, TrialDocuments, TrialFolders, run_trial
from workbench.fileio import write_json
from workbench.metrics import METRICS, BootstrapSettings, or_zero
from workbench.plotting import pyplot, save_png
from workbench.predict import load_pipeline
from workbench.records import AnnotatedDoc
from workbench.training.pipeline import PipelineSpec

TASKS = ("ner", "rel")
# Short training for every round (both models), under the user's own overrides: the study
# trains 1 + seeds x (1 + strategies x rounds) models.
SHORT_SETTINGS = {"training.max_steps": 300, "training.eval_frequency": 100, "training.patience": 300}


@dataclass(frozen=True)
class StudySettings:
    start: int = 50
    step: int = 50
    rounds: int = 8
    strategies: tuple[str, ...] = ("random", "uncertainty", "diversity")
    seeds: tuple[int, ...] = (0, 1, 2)
    # Share of the full-data F1 a strategy must reach.
    target_share: float = 0.9
    # Fewer sentences than random, for relations, that uncertainty should need.
    goal_saving: float = 0.3
    beam_width: int = 8

    def sizes(self) -> list[int]:
        return [self.start + round_ * self.step for round_ in range(self.rounds + 1)]

    def check(self, pool_size: int) -> None:
        unknown = [s for s in self.strategies if s not in ORDERS]
        if unknown:
            raise WorkbenchError(f"unknown strategy {', '.join(unknown)}; use {', '.join(ORDERS)}")
        if self.start < 1 or self.step < 1 or self.rounds < 0 or not self.seeds:
            raise WorkbenchError("--start and --step must be at least 1, --rounds at least 0, and there must be a seed")
        if self.sizes()[-1] > pool_size:
            raise WorkbenchError(f"{self.start} + {self.rounds} x {self.step} sentences is more than the pool's {pool_size}")


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Point:
    """One trained model of a curve: how many sentences it saw, which were new, its dev scores."""

    sentences: int
    added: list[str]
    ner: Scores
    rel: Scores


def round_scores(evaluation: Evaluation) -> dict[str, Scores]:
    """Micro NER and end-to-end relation scores of a round's model on dev."""
    headlines = evaluation.headlines()
    # An undefined figure (a model that predicts nothing) is a point at 0 on the curve.
    return {task: Scores(*(round(or_zero(headlines[task].micro[k]), 4) for k in METRICS)) for task in TASKS}


class Trainer:
    """Trains NER + REL on a set of pool sentences in a scratch folder (one trial) and scores it on dev."""

    # No bootstrap: the seeds give the spread.
    SCORING = Scoring(split="dev", bootstrap=BootstrapSettings(0))

    def __init__(self, spec: PipelineSpec, work: Path, dev: list[AnnotatedDoc]):
        self.spec, self.work, self.dev = spec, work, dev
        self.count = 0

    def train(self, records: list[AnnotatedDoc]) -> tuple[Path, dict[str, Scores]]:
        self.count += 1
        folders = TrialFolders.under(self.work / f"model-{self.count:03d}")
        trial = run_trial(self.spec, TrialDocuments(records, self.dev, self.dev), folders, self.SCORING)
        shutil.rmtree(folders.runs, ignore_errors=True)
        return trial.pipeline.path, round_scores(trial.evaluation)


def next_sentences(model: Path, strategy: str, pool: dict[str, str], labelled: dict[str, str], n: int, seed: int, beam_width: int) -> list[str]:
    """The n sentences the strategy ranks first among those not yet labelled.

    Random goes on with the seed's shuffle of the whole pool, so its labelled sets are
    nested random samples, as annotating in a random order would give.
    """
    if strategy == "random":
        return [doc_id for doc_id in random_order(list(pool), seed) if doc_id not in labelled][:n]
    remaining = {doc_id: text for doc_id, text in pool.items() if doc_id not in labelled}
    return rank_documents(load_pipeline(model), remaining, strategy, seed, labelled, beam_width).top(n)


def run_study(
    spec: PipelineSpec, pool: list[AnnotatedDoc], dev: list[AnnotatedDoc], settings: StudySettings, output: str | Path
) -> dict:
    """Write OUTPUT/curve.json and OUTPUT/curve.png; return the study.

    Relation thresholds stay at the config's value: the points are scored on dev, so
    tuning on it would not be held out (as in the learning curve).
    """
    settings.check(len(pool))
    spec = replace(spec, tune=False)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    by_id = {r.doc_id: r for r in pool}
    texts = {r.doc_id: r.text for r in pool}
    steps = len(settings.seeds) * (1 + len(settings.strategies) * settings.rounds) + 1
    curves: dict[str, dict[int, list[Point]]] = {strategy: {} for strategy in settings.strategies}
    with tempfile.TemporaryDirectory(dir=output, prefix=".study-") as tmp, tqdm(total=steps, desc="active learning", unit="model") as bar:
        trainer = Trainer(spec, Path(tmp), dev)
        _, full_scores = trainer.train(pool)
        bar.update(1)
        for seed in settings.seeds:
            first = random_order(list(texts), seed)[: settings.start]
            first_model, first_scores = trainer.train([by_id[i] for i in first])
            bar.update(1)
            for strategy in settings.strategies:
                labelled = {doc_id: texts[doc_id] for doc_id in first}
                model = first_model
                points = [Point(len(labelled), first, first_scores["ner"], first_scores["rel"])]
                for _ in range(settings.rounds):
                    added = next_sentences(model, strategy, texts, labelled, settings.step, seed, settings.beam_width)
                    labelled.update((doc_id, texts[doc_id]) for doc_id in added)
                    if model != first_model:
                        shutil.rmtree(model.parent, ignore_errors=True)
                    model, scores = trainer.train([by_id[i] for i in sorted(labelled)])
                    points.append(Point(len(labelled), added, scores["ner"], scores["rel"]))
                    bar.update(1)
                if model != first_model:
                    shutil.rmtree(model.parent, ignore_errors=True)
                curves[strategy][seed] = points
            shutil.rmtree(first_model.parent, ignore_errors=True)
    result = summarise(curves, full_scores, settings, len(pool), len(dev), spec)
    write_json(output / "curve.json", result)
    plot_study(result, output / "curve.png")
    return result


def summarise(curves: dict, full: dict[str, Scores], settings: StudySettings, pool: int, dev: int, spec: PipelineSpec) -> dict:
    targets = {task: round(settings.target_share * full[task].f1, 4) for task in TASKS}
    strategies = {}
    for strategy, by_seed in curves.items():
        mean = spread(by_seed, settings.sizes())
        strategies[strategy] = {
            "mean": mean,
            "sentences_to_target": {task: first_reaching(mean, task, targets[task]) for task in TASKS},
            "seeds": {str(seed): [asdict(point) for point in points] for seed, points in by_seed.items()},
        }
    return {
        "settings": {**asdict(settings), "sizes": settings.sizes()},
        "pool_sentences": pool,
        "dev_sentences": dev,
        "base_model": spec.base_model,
        "overrides": {"ner": spec.ner_overrides, "rel": spec.rel_overrides},
        "full_data": {"sentences": pool, **{task: asdict(full[task]) for task in TASKS}},
        "target_f1": targets,
        "strategies": strategies,
        "goal": goal(strategies, settings),
        "notes": [
            "scored on dev, which also picked each model's best checkpoint: every point is a little optimistic, alike",
            "relation thresholds are the config's, not tuned",
            "the seeds vary which sentences are chosen; the training seed is the config's",
        ],
    }


def spread(by_seed: dict[int, list[Point]], sizes: list[int]) -> list[dict]:
    """Per size: the seeds' mean, lowest and highest F1 for each task."""
    rows = []
    for index, size in enumerate(sizes):
        row = {"sentences": size}
        for task in TASKS:
            values = [getattr(points[index], task).f1 for points in by_seed.values()]
            row[task] = {"mean": round(sum(values) / len(values), 4), "min": min(values), "max": max(values)}
        rows.append(row)
    return rows


def first_reaching(rows: list[dict], task: str, target: float) -> int | None:
    """The fewest sentences whose mean F1 reaches the target; None if no point does."""
    return next((row["sentences"] for row in rows if row[task]["mean"] >= target), None)


def goal(strategies: dict, settings: StudySettings) -> dict:
    """Does uncertainty need `goal_saving` fewer sentences than random to reach the relation target?"""
    if "random" not in strategies or "uncertainty" not in strategies:
        return {"met": None, "note": "needs both the random and the uncertainty strategy"}
    random_n = strategies["random"]["sentences_to_target"]["rel"]
    uncertain_n = strategies["uncertainty"]["sentences_to_target"]["rel"]
    found = {"random": random_n, "uncertainty": uncertain_n, "wanted_saving": settings.goal_saving}
    last = settings.sizes()[-1]
    if uncertain_n is None:
        return {**found, "met": False if random_n is not None else None, "saving": None,
                "note": f"uncertainty did not reach the relation target within {last} sentences"
                + ("" if random_n is not None else ", nor did random: run more rounds")}
    if random_n is None:
        return {**found, "met": None, "saving": None,
                "note": f"random did not reach the relation target within {last} sentences: it needs more than {last}, "
                f"so uncertainty saves more than {1 - uncertain_n / last:.0%}, a lower bound only"}
    saving = round(1 - uncertain_n / random_n, 4)
    than = f"{saving:.0%} fewer" if saving >= 0 else f"{-saving:.0%} more"
    return {**found, "met": saving >= settings.goal_saving, "saving": saving,
            "note": f"uncertainty needs {than} sentences than random ({uncertain_n} against {random_n})"}


def plot_study(result: dict, path: Path) -> None:
    """F1 against sentences annotated, one line per strategy (seeds' mean) with the lowest-highest band."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), squeeze=False)
    for ax, task, title in zip(axes.flat, TASKS, ("Entities (NER)", "Relations (end to end)")):
        for strategy, curve in result["strategies"].items():
            sizes = [row["sentences"] for row in curve["mean"]]
            line = ax.plot(sizes, [row[task]["mean"] for row in curve["mean"]], marker="o", label=strategy)[0]
            ax.fill_between(sizes, [row[task]["min"] for row in curve["mean"]], [row[task]["max"] for row in curve["mean"]],
                            color=line.get_color(), alpha=0.15)
        ax.axhline(result["target_f1"][task], color="grey", linestyle="--", linewidth=1,
                   label=f"{result['settings']['target_share']:.0%} of full-data F1")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("sentences annotated")
        ax.set_xticks(result["settings"]["sizes"])
        ax.set_ylabel("dev F1 (micro)")
        ax.set_ylim(0, 1.0)
        ax.legend(fontsize=7)
    seeds = len(result["settings"]["seeds"])
    fig.suptitle(f"Active learning: mean of {seeds} seed{'s' if seeds != 1 else ''}, band = lowest to highest", fontsize=10)
    fig.tight_layout()
    save_png(fig, path)


def format_study(result: dict) -> str:
    lines = [f"full data ({result['full_data']['sentences']} sentences): NER F1 {result['full_data']['ner']['f1']:.3f}, "
             f"REL F1 {result['full_data']['rel']['f1']:.3f}; target {result['settings']['target_share']:.0%} of it"]
    sizes = result["settings"]["sizes"]
    lines.append("mean dev F1, NER / REL, by sentences annotated:")
    lines.append("  " + f"{'':<12}" + "".join(f"{n:>13}" for n in sizes))
    for strategy, curve in result["strategies"].items():
        cells = "".join(f"{row['ner']['mean']:>6.3f}/{row['rel']['mean']:<6.3f}" for row in curve["mean"])
        lines.append(f"  {strategy:<12} {cells}")
    lines.append("sentences to reach the target (mean over seeds; - = not within the study):")
    for strategy, curve in result["strategies"].items():
        reach = curve["sentences_to_target"]
        lines.append(f"  {strategy:<12} NER {reach['ner'] or '-'}   REL {reach['rel'] or '-'}")
    lines.append(f"goal (uncertainty >= {result['settings']['goal_saving']:.0%} fewer than random, relations): "
                 f"{ {True: 'met', False: 'not met', None: 'undecided'}[result['goal']['met']] } - {result['goal']['note']}")
    return "\n".join(lines)
