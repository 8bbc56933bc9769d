"""Write an evaluation as metrics.json (for machines), report.md, report.html and plots (for people).

The report is built once as a list of blocks (headings, paragraphs, tables, images) that
both the Markdown and the HTML writer render, so the two always say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from workbench.evaluation import plots
from workbench.evaluation.evaluate import Evaluation
from workbench.evaluation.html_report import render_html
from workbench.evaluation.provenance import provenance_rows
from workbench.fileio import atomic_open, check_replaceable, staged_dir, write_json
from workbench.metrics import markdown_table, pct, pct_ci, table_cell
from workbench.relations.reach import REACH_HEADER, REASONS, reach_rows
from workbench.words import count

CLASS_MEANING = {
    "boundary": "overlaps a span of the same label, other boundaries",
    "label": "same boundaries, other label",
    "boundary+label": "overlaps a span of another label, other boundaries",
    "spurious": "predicted where gold has nothing",
    "missed": "gold span that no prediction touches",
}


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    align: str = ""  # one of l/r per column; left by default

    def alignment(self) -> str:
        return self.align.ljust(len(self.header), "l")

    def markdown(self) -> list[str]:
        return markdown_table(self.header, self.rows, self.align)


@dataclass
class Report:
    """Blocks in order: ("h", level, text), ("p", text), ("table", Table), ("img", file name, alt text)."""

    blocks: list[tuple] = field(default_factory=list)

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", level, text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, header: list[str], rows: list[list[str]], align: str = "") -> None:
        self.blocks.append(("table", Table(header, rows, align)))

    def img(self, name: str, alt: str) -> None:
        self.blocks.append(("img", name, alt))


# A writer of more report blocks, given the report and its metrics.
Section = Callable[[Report, dict], None]


# --- sections --------------------------------------------------------------------------------


def _intro(report: Report, evaluation: Evaluation, metrics: dict) -> None:
    where = f"the **{evaluation.split}** split" if evaluation.split else "all gold documents"
    report.h(1, "Evaluation report")
    report.p(
        f"Model `{evaluation.model}` on {where}: {count(len(evaluation.doc_ids), 'document')} "
        f"({', '.join(evaluation.doc_ids)})."
    )
    if evaluation.provenance is not None:
        report.table(["provenance", ""], provenance_rows(evaluation.provenance))
    report.p(
        "Entities are scored strictly: a prediction counts only with the same start, end and label as a gold span. "
        "A label with no gold and no predicted span in these documents shows – (nothing to score). So does a "
        "precision with nothing predicted (TP + FP = 0) and a recall with nothing to find (TP + FN = 0): they are "
        "undefined, not 0, and are left out of the macro averages."
    )
    boot = metrics["bootstrap"]
    n = boot["documents"]
    if boot["intervals"]:
        report.p(
            f"Figures in brackets are {round(100 * boot['level'])}% intervals: a percentile bootstrap over the "
            f"{n} evaluated documents ({boot['samples']} resamples, seed {boot['seed']}). They show how far a figure "
            f"could move on other documents like these, and they rest on just {n} documents."
        )
    elif boot["samples"]:
        report.p(
            f"**No confidence intervals:** these figures rest on {count(n, 'document')}, fewer than "
            f"{boot['min_documents']}. A bootstrap interval over so few documents never reaches past the lowest and "
            "highest of the documents' own figures, so it looks precise and is not (with 2 documents it holds the true "
            "figure at most half the time); read every figure as these documents' result. "
            f"{_capitalised(interval_advice(metrics))}."
        )
    else:
        report.p("No confidence intervals: the bootstrap was turned off (`--bootstrap 0`).")
    for note in metrics.get("notes", []):
        report.p(f"Note: {note}.")


def interval_advice(metrics: dict) -> str | None:
    """What gives figures with intervals, when the evaluation had too few documents for them; None when it had enough."""
    boot = metrics["bootstrap"]
    if boot["intervals"] or not boot["samples"]:
        return None
    minimum = boot["min_documents"]
    if "crossval" in metrics:
        return f"intervals need at least {minimum} gold documents: annotate more"
    return (
        "for figures on every gold document, each predicted by a model that neither trained nor chose anything on it, "
        f"and intervals from {minimum} documents on, cross-validate: `workbench crossval GOLD -o DIR`"
    )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _system_rows(metrics: dict) -> tuple[list[list[str]], list[list[str]], list[plots.SystemBars], list[plots.SystemBars]]:
    """Rows of the NER and relation comparison tables, and the bars of their plots."""
    n_labels = len(metrics["ner"]["per_label"])
    ner_rows, rel_rows, ner_plot, rel_plot = [], [], [], []

    def add(rows, plot, name, scope, scores, contender, hatched=False):
        micro, ci = scores["micro"], (scores.get("ci") or {}).get("micro") or {}
        rows.append([name, scope, *(pct_ci(micro[m], ci.get(m)) for m in ("precision", "recall", "f1")), str(micro["tp"]), str(micro["fp"]), str(micro["fn"])])
        plot.append(plots.SystemBars(f"{name.strip('*')} ({scope})", scores, contender, hatched))

    add(ner_rows, ner_plot, "**model**", f"all {n_labels} labels", metrics["ner"], plots.MODEL)
    if "rel" in metrics:
        add(rel_rows, rel_plot, "**model**", "end to end", metrics["rel"], plots.MODEL)
        add(rel_rows, rel_plot, "**model**", "gold entities", metrics["rel"]["gold_entities"], plots.MODEL_ON_GOLD_ENTITIES)
    for name, baseline in metrics.get("baselines", {}).items():
        labels = baseline["labels"]
        scope = f"all {n_labels} labels" if len(labels) == n_labels else f"{len(labels)} labels: {', '.join(labels)}"
        if "model_ner" in baseline:
            add(ner_rows, ner_plot, "model", scope, baseline["model_ner"], plots.MODEL, hatched=True)
        add(ner_rows, ner_plot, name, scope, baseline["ner"], name)
        if "rel" in baseline:
            add(rel_rows, rel_plot, name, "end to end", baseline["rel"], name)
            add(rel_rows, rel_plot, name, "gold entities", baseline["rel"]["gold_entities"], plots.on_gold_entities(name))
    return ner_rows, rel_rows, ner_plot, rel_plot


def _systems(report: Report, metrics: dict, images: dict[str, str]) -> None:
    if "baselines" not in metrics:
        return
    ner_rows, rel_rows, _, _ = _system_rows(metrics)
    header = ["system", "scored on", "precision", "recall", "F1", "TP", "FP", "FN"]
    report.h(2, "Model and baselines")
    report.p("Micro scores on the same documents, strict matching. " + " ".join(
        f"`{name}`: {b['description']}." for name, b in metrics["baselines"].items()
    ))
    report.h(3, "Entities")
    report.table(header, ner_rows, "llrrrrrr")
    if "systems_ner" in images:
        report.img(images["systems_ner"], "model and baselines, entities")
    if rel_rows:
        report.h(3, "Relations")
        report.table(header, rel_rows, "llrrrrrr")
        if "systems_rel" in images:
            report.img(images["systems_rel"], "model and baselines, relations")


def _score_rows(name: str, scores: dict) -> list[list[str]]:
    micro, macro = scores["micro"], scores["macro"]
    ci = scores.get("ci") or {}
    micro_ci, label_ci = ci.get("micro") or {}, ci.get("per_label") or {}
    rows = [
        [f"**{name} micro**", f"**{pct_ci(micro['precision'], micro_ci.get('precision'))}**", pct_ci(micro["recall"], micro_ci.get("recall")),
         pct_ci(micro["f1"], micro_ci.get("f1")), str(micro["tp"] + micro["fn"]), str(micro["tp"]), str(micro["fp"]), str(micro["fn"])],
        [f"{name} macro", pct(macro["precision"]), pct(macro["recall"]), pct(macro["f1"]), "", "", "", ""],
    ]
    for label, s in scores["per_label"].items():
        scored = s["support"] or s["fp"]
        interval = label_ci.get(label) or {}
        p, r, f = (pct_ci(s[k], interval.get(k)) if scored else "–" for k in ("precision", "recall", "f1"))
        rows.append([label, p, r, f, str(s["support"]), str(s["tp"]), str(s["fp"]), str(s["fn"])])
    return rows


SCORE_HEADER = ["", "precision", "recall", "F1", "support", "TP", "FP", "FN"]


def _entities(report: Report, metrics: dict, images: dict[str, str]) -> None:
    ner = metrics["ner"]
    rows = _score_rows("entities", ner)
    report.h(2, "Entities (NER)")
    report.table(SCORE_HEADER, [["**micro**", *rows[0][1:]], ["macro", *rows[1][1:]]], "lrrrrrrr")
    report.h(3, "Per label")
    report.table(["label", *SCORE_HEADER[1:]], rows[2:], "lrrrrrrr")
    report.img(images["per_label"], "precision and recall per label")
    report.h(3, "Partial matching (SemEval 2013 schemes)")
    report.p(
        "As `nervaluate` defines them. strict: same boundaries and label; exact: same boundaries, any label; "
        "partial: overlapping boundaries earn half credit, any label; ent_type: overlapping with the same label."
    )
    schemes = ner["partial"]
    report.table(
        ["scheme", "correct", "incorrect", "partial", "missed", "spurious", "precision", "recall", "F1"],
        [[name, *(str(s["micro"][k]) for k in ("correct", "incorrect", "partial", "missed", "spurious")),
          *(pct(s["micro"][k]) for k in ("precision", "recall", "f1"))] for name, s in schemes.items()],
        "lrrrrrrrr",
    )


def _entity_errors(report: Report, metrics: dict, images: dict[str, str]) -> None:
    errors = metrics["ner"]["errors"]
    report.h(2, "Entity errors by kind")
    report.p("Each strict false positive and false negative, by how it relates to the spans on the other side.")
    names = list(dict.fromkeys([*errors["FP"], *errors["FN"]]))
    report.table(
        ["kind", "false positives", "false negatives", "meaning"],
        [[name, str(errors["FP"].get(name, "")), str(errors["FN"].get(name, "")), CLASS_MEANING[name]] for name in names],
        "lrrl",
    )
    confusion = metrics["ner"]["confusion"]
    report.h(3, "Label confusion")
    report.p(
        "Rows: gold label; columns: predicted label. Spans are paired by overlap (a prediction takes an "
        "overlapping gold span of its own label first); `none`: no partner on the other side."
    )
    names = confusion["labels"]
    report.table(["gold \\ predicted", *names], [[g, *map(str, row)] for g, row in zip(names, confusion["matrix"])], "l" + "r" * len(names))
    report.img(images["confusion"], "label confusion matrix")


def _relations(report: Report, metrics: dict, images: dict[str, str]) -> None:
    rel = metrics["rel"]
    report.h(2, "Relations")
    report.p(
        "Strict: type, both argument spans and their labels must match; direction is ignored for symmetric types. "
        "Every gold relation counts, also one whose arguments were not found or fell outside the candidate window."
    )
    report.h(3, "End to end (relations on predicted entities)")
    report.table(SCORE_HEADER, _score_rows("end to end", rel), "lrrrrrrr")
    report.h(3, "Relation model alone (relations on gold entities)")
    report.table(SCORE_HEADER, _score_rows("gold entities", rel["gold_entities"]), "lrrrrrrr")
    errors = rel["errors"]
    report.h(3, "Where end-to-end relation errors come from")
    report.p(
        "entities: an argument was not predicted exactly (false negative) or is not a gold entity (false positive); "
        "relation model: both arguments were right and the relation decision was wrong."
    )
    rows = [
        [t, *(str(row[kind][cause]) for kind in ("FN", "FP") for cause in ("entities", "relation_model"))]
        for t, row in errors["per_type"].items()
    ]
    rows.append(["**all**", *(f"**{errors[kind][cause]}**" for kind in ("FN", "FP") for cause in ("entities", "relation_model"))])
    report.table(["type", "FN: entities", "FN: relation model", "FP: entities", "FP: relation model"], rows, "lrrrr")
    if "reach" in rel:
        _reach(report, rel["reach"])
    if "rel_thresholds" in images:
        report.h(3, "Precision against threshold")
        report.p(
            "The relation model's scores on every candidate pair of these documents' gold entities: precision "
            "and recall if candidates scored at or above the threshold were kept. The dashed line is the model's threshold."
        )
        report.img(images["rel_thresholds"], "relation precision and recall against threshold")


def _reach(report: Report, reach: dict) -> None:
    report.h(3, "Reach (recall ceiling)")
    report.p(
        "The gold relations the model's candidate generator reaches at all: both arguments are gold entities and the "
        "ordered pair is a candidate with the type allowed (one sentence, or at most "
        f"{reach['max_distance']} tokens apart). No relation model finds the others, so the share caps recall on gold "
        "entities. The last columns count the unreachable ones by reason: "
        + "; ".join(f"{k.replace('_', ' ')}: {meaning}" for k, meaning in REASONS.items()) + "."
    )
    rows = reach_rows(reach)
    rows[-1] = [f"**{cell}**" for cell in rows[-1]]
    report.table(REACH_HEADER, rows, "l" + "r" * (len(REACH_HEADER) - 1))
    unreachable = reach["unreachable_relations"]
    if unreachable:
        shown = unreachable[:50]
        report.table(
            ["document", "type", "head", "tail", "reason", "tokens apart"],
            [[u["doc_id"], u["type"], f"`{table_cell(u['head'])}`", f"`{table_cell(u['tail'])}`", u["reason"].replace("_", " "), str(u["distance"])]
             for u in shown],
            "lllllr",
        )
        if len(unreachable) > len(shown):
            report.p(f"The first {len(shown)} of {len(unreachable)} unreachable relations; metrics.json lists them all.")


def _error_lists(report: Report, evaluation: Evaluation) -> None:
    for kind, title in (("FP", "False positives (predicted, not in gold)"), ("FN", "False negatives (in gold, missed)")):
        errors = [e for e in evaluation.errors if e.kind == kind]
        report.h(2, f"{title}: {len(errors)}")
        if not errors:
            report.p("None.")
            continue
        rows = [[e.doc_id, e.label, f"`{table_cell(e.text)}` ({e.start}-{e.end})", e.error_class, table_cell(e.sentence)] for e in errors]
        report.table(["document", "label", "span", "kind", "sentence"], rows)
    if evaluation.rel is None:
        return
    report.h(2, f"Relation errors, end to end: {len(evaluation.relation_errors)}")
    if not evaluation.relation_errors:
        report.p("None.")
        return
    rows = [[e.doc_id, e.kind, e.type, f"`{table_cell(e.head)}`", f"`{table_cell(e.tail)}`", e.cause.replace("_", " ")] for e in evaluation.relation_errors]
    report.table(["document", "", "type", "head", "tail", "from"], rows)


def build_report(evaluation: Evaluation, metrics: dict, images: dict[str, str], extra_section: Section | None = None) -> Report:
    report = Report()
    _intro(report, evaluation, metrics)
    if extra_section is not None:
        extra_section(report, metrics)
    _systems(report, metrics, images)
    _entities(report, metrics, images)
    _entity_errors(report, metrics, images)
    if "rel" in metrics:
        _relations(report, metrics, images)
    _error_lists(report, evaluation)
    return report


# --- writers ---------------------------------------------------------------------------------


def render_markdown(report: Report) -> str:
    lines: list[str] = []
    for block in report.blocks:
        kind = block[0]
        if kind == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "img":
            lines += [f"![{block[2]}]({block[1]})", ""]
        elif kind == "table":
            lines += [*block[1].markdown(), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _write_plots(evaluation: Evaluation, metrics: dict, out_dir: Path) -> dict[str, str]:
    """Draw the plots this evaluation has data for; {key: file name}."""
    images = {"per_label": "per_label.png", "confusion": "confusion.png"}
    plots.plot_per_label(metrics["ner"], out_dir / images["per_label"])
    plots.plot_confusion(metrics["ner"]["confusion"], out_dir / images["confusion"])
    if "baselines" in metrics:
        _, _, ner_plot, rel_plot = _system_rows(metrics)
        images["systems_ner"] = "systems_ner.png"
        plots.plot_systems(ner_plot, "Entities: model and baselines (micro)", out_dir / images["systems_ner"])
        if rel_plot:
            images["systems_rel"] = "systems_rel.png"
            plots.plot_systems(rel_plot, "Relations: model and baselines (micro)", out_dir / images["systems_rel"])
    if evaluation.threshold_cells is not None:
        images["rel_thresholds"] = "rel_thresholds.png"
        plots.plot_threshold_curves(*evaluation.threshold_cells, out_dir / images["rel_thresholds"])
    return images


def write_report(
    evaluation: Evaluation,
    out_dir: str | Path,
    colors: dict[str, str] | None = None,
    html: bool = True,
    extra_metrics: dict | None = None,
    extra_section: Section | None = None,
) -> dict[str, Path]:
    """metrics.json, report.md, report.html (unless html=False) and the PNG plots in out_dir.

    colors: label and relation type -> CSS colour for the HTML documents; by default the scheme's.
    extra_metrics: more top-level keys for metrics.json; extra_section: writes more blocks
    right after the introduction (cross-validation adds its folds this way).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = {**evaluation.metrics(), **(extra_metrics or {})}
    paths = {"metrics": out_dir / "metrics.json", "report": out_dir / "report.md"}
    write_json(paths["metrics"], metrics)
    images = _write_plots(evaluation, metrics, out_dir)
    paths.update({key: out_dir / name for key, name in images.items()})
    paths["plot"] = paths["per_label"]
    report = build_report(evaluation, metrics, images, extra_section)
    with atomic_open(paths["report"]) as fh:
        fh.write(render_markdown(report))
    if html:
        paths["html"] = out_dir / "report.html"
        with atomic_open(paths["html"]) as fh:
            fh.write(render_html(report, evaluation, out_dir, evaluation.scheme.colors if colors is None else colors))
    return paths


def _report_file(entry) -> bool:
    return entry.is_file() and entry.name.endswith((".json", ".md", ".html", ".png"))


def publish_report(evaluation: Evaluation, out_dir: str | Path, **options) -> dict[str, Path]:
    """write_report into a staging folder that then replaces out_dir: the folder is the old report or the new one, whole.

    A folder holding anything a report does not write is refused, since it would be replaced.
    """
    out_dir = Path(out_dir)
    check_replaceable(out_dir, _report_file, "an evaluation report")
    with staged_dir(out_dir) as stage:
        paths = write_report(evaluation, stage, **options)
    return {key: out_dir / path.name for key, path in paths.items()}
