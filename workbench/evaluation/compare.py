"""Compare two evaluation runs (their metrics.json): what got better or worse, per label and type, beyond noise.

A change is called better or worse only when the two runs' 95% intervals do not overlap;
otherwise it is within noise. Non-overlap of two intervals is a cautious test: a real but
small change can sit within noise, a change called worse very rarely is not.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.evaluation.report import Report, count, pct, pct_ci

METRICS = ("precision", "recall", "f1")
TASKS = (("ner", "Entities (NER)"), ("rel", "Relations, end to end"), ("rel_gold_entities", "Relations on gold entities"))


def load_metrics(run: str | Path) -> dict:
    """A report folder's metrics.json (or the file itself)."""
    path = Path(run)
    if path.is_dir():
        path = path / "metrics.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WorkbenchError(f"cannot read metrics: {exc.strerror or exc}", path=path) from None
    except json.JSONDecodeError as exc:
        raise WorkbenchError(f"not valid JSON: {exc.msg}", path=path) from None


def verdict(a: float, a_ci: dict | None, b: float, b_ci: dict | None) -> str:
    if a == b:
        return "unchanged"
    if not a_ci or not b_ci:
        return "no interval"
    if b_ci["lo"] > a_ci["hi"]:
        return "better"
    if b_ci["hi"] < a_ci["lo"]:
        return "worse"
    return "within noise"


def _task(metrics: dict, task: str) -> dict | None:
    if task == "rel_gold_entities":
        return (metrics.get("rel") or {}).get("gold_entities")
    return metrics.get(task)


def _row(name: str, a: dict | None, a_ci: dict, b: dict | None, b_ci: dict) -> dict:
    row = {"name": name, "a": a, "b": b, "a_ci": a_ci, "b_ci": b_ci, "verdicts": {}}
    if a is None or b is None:
        row["summary"] = "only in " + ("B" if a is None else "A")
        return row
    row["delta"] = {m: round(b[m] - a[m], 6) for m in METRICS}
    row["verdicts"] = {m: verdict(a[m], a_ci.get(m), b[m], b_ci.get(m)) for m in METRICS}
    moved = [(v, m) for m, v in row["verdicts"].items() if v in ("worse", "better")]
    parts = [f"{v}: {', '.join(m for w, m in moved if w == v)}" for v in ("worse", "better") if any(w == v for w, _ in moved)]
    values = set(row["verdicts"].values())
    row["summary"] = "; ".join(parts) if parts else ("unchanged" if values == {"unchanged"} else sorted(values - {"unchanged"})[0])
    return row


def compare_task(a: dict, b: dict) -> list[dict]:
    """One row for micro, then one per label or type that either run has something to score on."""
    a_ci, b_ci = a.get("ci") or {}, b.get("ci") or {}
    rows = [_row("micro", a["micro"], a_ci.get("micro") or {}, b["micro"], b_ci.get("micro") or {})]
    for label in sorted(set(a["per_label"]) | set(b["per_label"])):
        sa, sb = a["per_label"].get(label), b["per_label"].get(label)
        if not any(s and (s["support"] or s["fp"]) for s in (sa, sb)):
            continue  # nothing to score in either run
        rows.append(_row(label, sa, (a_ci.get("per_label") or {}).get(label) or {}, sb, (b_ci.get("per_label") or {}).get(label) or {}))
    return rows


def compare_runs(a: dict, b: dict) -> dict:
    result = {"a": _describe(a), "b": _describe(b), "tasks": {}, "regressions": [], "notes": []}
    for task, _ in TASKS:
        ta, tb = _task(a, task), _task(b, task)
        if ta is None or tb is None:
            continue
        rows = compare_task(ta, tb)
        result["tasks"][task] = rows
        result["regressions"] += [f"{task} {row['name']} {m}" for row in rows for m, v in row["verdicts"].items() if v == "worse"]
    if a.get("document_ids") != b.get("document_ids"):
        result["notes"].append("the runs were scored on different documents, so differences mix the models with the data")
    if bool(a.get("crossval")) != bool(b.get("crossval")):
        result["notes"].append(
            "one run is cross-validated (each document scored by a model trained on the other folds) and the other is not, "
            "so differences also mix in how much training data each model had"
        )
    for side, metrics in (("A", a), ("B", b)):
        if not (metrics.get("bootstrap") or {}).get("intervals"):
            note = (metrics.get("bootstrap") or {}).get("note", "no intervals (metrics written before there were any)")
            result["notes"].append(f"run {side}: {note}")
    return result


def _describe(metrics: dict) -> dict:
    """Who was scored on what; `folds` is set for a `workbench crossval` run (its metrics.json has the same shape)."""
    folds = (metrics.get("crossval") or {}).get("folds")
    return {"model": metrics.get("model"), "split": metrics.get("split"), "documents": metrics.get("documents"), "folds": folds}


def _cell(scores: dict | None, ci: dict, metric: str) -> str:
    if scores is None or (metric == "precision" and not scores["tp"] + scores["fp"]):
        return "–"  # not in this run, or no prediction to be precise about
    return pct_ci(scores[metric], ci.get(metric))


def comparison_report(result: dict, run_a: str, run_b: str) -> Report:
    report = Report()
    report.h(1, "Comparison of two evaluation runs")
    for side, run in (("A", run_a), ("B", run_b)):
        d = result[side.lower()]
        scope = d["split"] or "all gold"
        if d.get("folds"):
            scope += f", pooled out-of-fold predictions of {d['folds']}-fold cross-validation"
        report.p(f"**{side}**: `{run}`: model `{d['model']}`, {count(d['documents'] or 0, 'document')} ({scope}).")
    report.p(
        "Scores in %, with 95% intervals in brackets. better / worse: B's interval lies wholly above / below A's; "
        "within noise: the intervals overlap."
    )
    for note in result["notes"]:
        report.p(f"Note: {note}.")
    report.p("**Regressions: " + (", ".join(result["regressions"]) if result["regressions"] else "none") + "**")
    for task, title in TASKS:
        if task not in result["tasks"]:
            continue
        report.h(2, title)
        rows = []
        for row in result["tasks"][task]:
            support = "/".join(str(s["support"]) if s else "–" for s in (row["a"], row["b"])) if row["name"] != "micro" else ""
            cells = [f"{_cell(row['a'], row['a_ci'], m)} → {_cell(row['b'], row['b_ci'], m)}" for m in METRICS]
            delta = f"{'+' if row['delta']['f1'] >= 0 else ''}{pct(row['delta']['f1'])}" if "delta" in row else ""
            summary = f"**{row['summary'].upper()}**" if "worse" in row["summary"] else row["summary"]
            rows.append([row["name"], support, *cells, delta, summary])
        report.table(["", "support A/B", "precision A → B", "recall A → B", "F1 A → B", "Δ F1", "verdict"], rows, "lrrrrrl")
    return report
