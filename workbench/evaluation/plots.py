"""The evaluation plots, as PNG files: per-label scores, label confusion, relation thresholds, systems, learning curve.

Every plot is written with a fixed (empty) software stamp, so the same figures give the same bytes.
In the report's plots a colour stands for one contender (CONTENDER_COLORS) wherever it
appears; what differs within a contender (precision and recall, a narrower set of labels)
is drawn with hatching or a line style, never with another colour.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy

from workbench.plotting import pyplot as _pyplot, save_png
from workbench.relations.thresholds import score_at


def on_gold_entities(contender: str) -> str:
    """The contender's relation step alone, on the gold entities: a contender of its own."""
    return f"{contender} on gold entities"


MODEL = "model"
MODEL_ON_GOLD_ENTITIES = on_gold_entities(MODEL)
# Okabe and Ito's colour-blind-safe palette: one colour per contender, in every plot of the report.
CONTENDER_COLORS = {
    MODEL: "#0072B2",
    MODEL_ON_GOLD_ENTITIES: "#56B4E9",
    "gazetteer": "#E69F00",
    on_gold_entities("gazetteer"): "#D55E00",
    "en_core_web_sm": "#009E73",
}
# For a baseline added later: chosen by its name, so that it too has one colour in every plot.
OTHER_COLORS = ("#CC79A7", "#000000", "#999999")
# The second series of one contender (recall beside precision, or fewer labels): its colour, hatched.
HATCH = "////"


def contender_color(contender: str) -> str:
    return CONTENDER_COLORS.get(contender) or OTHER_COLORS[zlib.crc32(contender.encode()) % len(OTHER_COLORS)]


@dataclass(frozen=True)
class SystemBars:
    """One system's bars in a model-and-baselines plot."""

    label: str  # legend text
    scores: dict  # task metrics with "micro" and "ci"
    contender: str  # its colour's key (CONTENDER_COLORS)
    hatched: bool = False  # the contender scored on fewer labels (the model on a baseline's labels)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    save_png(fig, path)


def _heights(values: list[float | None]) -> list[float]:
    """Bar heights: an undefined score (None, e.g. precision with no prediction) draws no bar, not a zero."""
    return [float("nan") if v is None else v for v in values]


def _error_bars(values: list[float], intervals: list[dict | None]) -> list[list[float]] | None:
    """matplotlib's yerr (distances below and above) from {lo, hi} intervals; None when there are none."""
    if not any(intervals):
        return None
    below = [v - ci["lo"] if ci and v == v else 0.0 for v, ci in zip(values, intervals)]
    above = [ci["hi"] - v if ci and v == v else 0.0 for v, ci in zip(values, intervals)]
    return [[max(0.0, b) for b in below], [max(0.0, a) for a in above]]


def plot_per_label(scores: dict, path: Path) -> None:
    """Precision and recall per label, with their intervals where there are any."""
    plt = _pyplot()
    per_label = scores["per_label"]
    ci = (scores.get("ci") or {}).get("per_label", {})
    # A label with neither gold nor predicted spans has no score to draw.
    labels = [l for l, s in per_label.items() if s["support"] or s["fp"]]
    xs = range(len(labels))
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(labels)), 3.2))
    width = 0.38
    # The model's figures: its colour, recall hatched.
    color = contender_color(MODEL)
    for offset, metric, style in ((-width / 2, "precision", {"color": color}), (width / 2, "recall", _hatched(color))):
        values = _heights([per_label[l][metric] for l in labels])
        yerr = _error_bars(values, [(ci.get(l) or {}).get(metric) for l in labels])
        ax.bar([x + offset for x in xs], values, width, yerr=yerr, capsize=2, label=f"model's {metric}", **style)
    ax.set_xticks(list(xs), [f"{l}\n(n={per_label[l]['support']})" for l in labels], fontsize=8)
    # Headroom above 1 keeps the legend off the bars.
    ax.set_ylim(0, 1.22)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("score")
    ax.set_title("Entities: precision and recall per label (strict)" + (", 95% intervals" if ci else ""))
    ax.legend(loc="upper right", fontsize=8, ncol=2)
    _save(fig, path)


def plot_confusion(confusion: dict, path: Path) -> None:
    """Gold label against predicted label over aligned spans; the diagonal is agreement."""
    plt = _pyplot()
    names, matrix = confusion["labels"], numpy.array(confusion["matrix"])
    fig, ax = plt.subplots(figsize=(1.0 + 0.62 * len(names), 0.8 + 0.55 * len(names)))
    ax.imshow(matrix, cmap="Blues")
    for (row, col), value in numpy.ndenumerate(matrix):
        if value:
            dark = value > matrix.max() / 2
            ax.text(col, row, str(value), ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Entities: label confusion (aligned spans)", fontsize=10)
    _save(fig, path)


def plot_threshold_curves(cells: dict, n_gold: dict, thresholds: dict, path: Path) -> None:
    """Per relation type and over all types: precision and recall of keeping candidates scored at or above t."""
    plt = _pyplot()
    grid = numpy.linspace(0, 1, 101)
    panels = [(label, cells[label], n_gold[label], thresholds.get(label)) for label in cells]
    panels.append(("all types (one threshold)", [c for label in cells for c in cells[label]], sum(n_gold.values()), None))
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 2.6 * rows), squeeze=False)
    # The relation model alone on gold entities: its colour, recall dashed.
    color = contender_color(MODEL_ON_GOLD_ENTITIES)
    for ax, (title, scored, gold, threshold) in zip(axes.flat, panels):
        points = [score_at(scored, gold, t) for t in grid]
        ax.plot(grid, [p.precision for p in points], color=color, label="precision")
        ax.plot(grid, [p.recall for p in points], color=color, linestyle=":", linewidth=2, label="recall")
        if threshold is not None:
            ax.axvline(threshold, color="grey", linestyle="--", linewidth=1, label=f"model's threshold {threshold:.2f}")
        ax.set_title(f"{title} (gold {gold})", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("threshold", fontsize=8)
        ax.legend(fontsize=7, loc="lower left")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.suptitle("Relations on gold entities: precision and recall against the decision threshold", fontsize=10)
    _save(fig, path)


def _hatched(color: str) -> dict:
    """Bar style of the second series of one contender: white with its colour's hatching and edge."""
    return {"color": "white", "edgecolor": color, "hatch": HATCH}


def plot_systems(rows: list[SystemBars], title: str, path: Path) -> None:
    """Precision, recall and F1 of several systems side by side, each in its contender's colour, with intervals where there are any."""
    plt = _pyplot()
    metrics = ("precision", "recall", "f1")
    fig, ax = plt.subplots(figsize=(max(5.5, 1.6 * len(rows) + 2), 3.2))
    width = 0.8 / len(rows)
    for k, row in enumerate(rows):
        values = _heights([row.scores["micro"][m] for m in metrics])
        intervals = [((row.scores.get("ci") or {}).get("micro") or {}).get(m) for m in metrics]
        xs = [x - 0.4 + width * (k + 0.5) for x in range(len(metrics))]
        color = contender_color(row.contender)
        style = _hatched(color) if row.hatched else {"color": color}
        ax.bar(xs, values, width, yerr=_error_bars(values, intervals), capsize=2, label=row.label, **style)
    ax.set_xticks(range(len(metrics)), ["precision", "recall", "F1"])
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _save(fig, path)


def plot_learning_curve(points: list[dict], title: str, path: Path) -> None:
    """NER and relation precision and F1 against the number of training documents."""
    plt = _pyplot()
    sizes = [p["train_documents"] for p in points]
    panels = [("Entities (NER)", [("ner", "-")]), ("Relations", [("rel", "-"), ("rel_gold_entities", "--")])]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.3), squeeze=False)
    for ax, (title, tasks) in zip(axes.flat, panels):
        for task, style in tasks:
            if not all(task in p for p in points):
                continue
            suffix = " (gold entities)" if task == "rel_gold_entities" else ""
            for metric, name, color in (("precision", "precision", "tab:blue"), ("f1", "F1", "tab:orange")):
                values = _heights([p[task][metric] for p in points])
                ax.plot(sizes, values, style, color=color, marker="o" if style == "-" else "s", label=f"{name}{suffix}")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training documents")
        ax.set_xticks(sizes)
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)
