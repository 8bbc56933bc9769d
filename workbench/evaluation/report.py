"""Write an evaluation as metrics.json (for machines), report.md and a per-label plot (for people)."""

from __future__ import annotations

from pathlib import Path

from workbench.evaluation.evaluate import Evaluation
from workbench.fileio import atomic_open, write_json
from workbench.plotting import pyplot, save_png


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _plot_per_label(per_label: dict, path: Path) -> None:
    plt = pyplot()
    # A label with neither gold nor predicted spans has no score to draw.
    labels = [l for l, s in per_label.items() if s["support"] or s["fp"]]
    xs = range(len(labels))
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(labels)), 3.2))
    width = 0.38
    ax.bar([x - width / 2 for x in xs], [per_label[l]["precision"] for l in labels], width, label="precision")
    ax.bar([x + width / 2 for x in xs], [per_label[l]["recall"] for l in labels], width, label="recall")
    ax.set_xticks(list(xs), [f"{l}\n(n={per_label[l]['support']})" for l in labels], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("score")
    ax.set_title("Entities: precision and recall per label (strict)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    save_png(fig, path)


def _score_rows(name: str, scores: dict) -> list[str]:
    micro, macro = scores["micro"], scores["macro"]
    rows = [
        f"| **{name} micro** | **{_pct(micro['precision'])}** | {_pct(micro['recall'])} | {_pct(micro['f1'])} | {micro['tp'] + micro['fn']} | {micro['tp']} | {micro['fp']} | {micro['fn']} |",
        f"| {name} macro | {_pct(macro['precision'])} | {_pct(macro['recall'])} | {_pct(macro['f1'])} | | | | |",
    ]
    for label, s in scores["per_label"].items():
        scored = s["support"] or s["fp"]
        p, r, f = (_pct(s[k]) if scored else "–" for k in ("precision", "recall", "f1"))
        rows.append(f"| {label} | {p} | {r} | {f} | {s['support']} | {s['tp']} | {s['fp']} | {s['fn']} |")
    return rows


def _relation_section(rel: dict) -> list[str]:
    header = ["| | precision | recall | F1 | support | TP | FP | FN |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    return [
        "",
        "## Relations",
        "",
        "Strict: type, both argument spans and their labels must match; direction is ignored for symmetric types. "
        "Every gold relation counts, also one whose arguments were not found or fell outside the candidate window.",
        "",
        "### End to end (relations on predicted entities)",
        "",
        *header,
        *_score_rows("end to end", rel),
        "",
        "### Relation model alone (relations on gold entities)",
        "",
        *header,
        *_score_rows("gold entities", rel["gold_entities"]),
    ]


def render_markdown(evaluation: Evaluation, metrics: dict, plot_name: str | None) -> str:
    ner = metrics["ner"]
    micro = ner["micro"]
    where = f"the **{evaluation.split}** split" if evaluation.split else "all gold documents"
    lines = [
        "# Evaluation report",
        "",
        f"Model `{evaluation.model}` on {where}: {len(evaluation.doc_ids)} documents "
        f"({', '.join(evaluation.doc_ids)}).",
        "",
        "Entities are scored strictly: a prediction counts only with the same start, end and label as a gold span. "
        "A label with no gold and no predicted span in these documents shows – (nothing to score).",
        "",
        "## Entities (NER)",
        "",
        "| | precision | recall | F1 | TP | FP | FN |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| **micro** | **{_pct(micro['precision'])}** | {_pct(micro['recall'])} | {_pct(micro['f1'])} | {micro['tp']} | {micro['fp']} | {micro['fn']} |",
        f"| macro | {_pct(ner['macro']['precision'])} | {_pct(ner['macro']['recall'])} | {_pct(ner['macro']['f1'])} | | | |",
        "",
        "### Per label",
        "",
        "| label | precision | recall | F1 | support | TP | FP | FN |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += _score_rows("entities", ner)[2:]
    if plot_name:
        lines += ["", f"![precision and recall per label]({plot_name})"]
    if "rel" in metrics:
        lines += _relation_section(metrics["rel"])
    for kind, title in (("FP", "False positives (predicted, not in gold)"), ("FN", "False negatives (in gold, missed)")):
        errors = [e for e in evaluation.errors if e.kind == kind]
        lines += ["", f"## {title}: {len(errors)}", ""]
        if not errors:
            lines.append("None.")
            continue
        lines += ["| document | label | span | sentence |", "|---|---|---|---|"]
        for e in errors:
            sentence = " ".join(e.sentence.split()).replace("|", "\\|")
            lines.append(f"| {e.doc_id} | {e.label} | `{e.text}` ({e.start}-{e.end}) | {sentence} |")
    return "\n".join(lines) + "\n"


def write_report(evaluation: Evaluation, out_dir: str | Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = evaluation.metrics()
    paths = {"metrics": out_dir / "metrics.json", "report": out_dir / "report.md", "plot": out_dir / "per_label.png"}
    write_json(paths["metrics"], metrics)
    _plot_per_label(metrics["ner"]["per_label"], paths["plot"])
    with atomic_open(paths["report"]) as fh:
        fh.write(render_markdown(evaluation, metrics, paths["plot"].name))
    return paths
