"""Compare two evaluation runs (their metrics.json): what got better or worse, per label and type, beyond noise.

A change is called better or worse only when the two runs' 95% intervals do not overlap;
otherwise it is within noise. Non-overlap of two intervals is a cautious test: a real but
small change can sit within noise, a change called worse very rarely is not.

Some changes cannot be told at all ("cannot tell"): when a run rests on fewer documents than
the minimum (by default 10, below which evaluate gives no interval), when an interval is
degenerate (lo = hi, as when every document has the same figure), when a run has no
interval, or when a figure is undefined in one run. A gate (`--fail-on-regression`) fails closed on those: an F1 that fell without the
evidence to tell is a failure unless the user accepts thin evidence.

Runs scored on different gold files (their metrics.json record its sha256) are not compared.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.evaluation.report import Report
from workbench.metrics import METRICS, MIN_DOCUMENTS, pct, pct_ci
from workbench.words import count

CANNOT_TELL = "cannot tell"
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


def why_cannot_tell(a: float | None, a_ci: dict | None, b: float | None, b_ci: dict | None, thin: str | None = None) -> str | None:
    """Why A and B's figures cannot be told apart (None when they can): too few documents, undefined, no or a degenerate interval."""
    if a is None or b is None:
        return "undefined in " + ("A and B" if a is None and b is None else "A" if a is None else "B")
    if a == b:
        return None  # the same figure needs no interval to be called unchanged
    if thin:
        return thin
    if not a_ci or not b_ci:
        return "no interval"
    for side, ci in (("A", a_ci), ("B", b_ci)):
        if ci["lo"] == ci["hi"]:
            return f"degenerate interval in {side} ({pct(ci['lo'])}–{pct(ci['hi'])})"
    return None


def verdict(a: float | None, a_ci: dict | None, b: float | None, b_ci: dict | None, thin: str | None = None) -> str:
    """better, worse, within noise, unchanged, or cannot tell (see why_cannot_tell); thin: why the runs are too small."""
    if why_cannot_tell(a, a_ci, b, b_ci, thin):
        return CANNOT_TELL
    if a == b:
        return "unchanged"
    if b_ci["lo"] > a_ci["hi"]:
        return "better"
    if b_ci["hi"] < a_ci["lo"]:
        return "worse"
    return "within noise"


def _task(metrics: dict, task: str) -> dict | None:
    if task == "rel_gold_entities":
        return (metrics.get("rel") or {}).get("gold_entities")
    return metrics.get(task)


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 6)


def _row(name: str, a: dict | None, a_ci: dict, b: dict | None, b_ci: dict, thin: str | None) -> dict:
    row = {"name": name, "a": a, "b": b, "a_ci": a_ci, "b_ci": b_ci, "verdicts": {}, "why": {}}
    if a is None or b is None:
        row["summary"] = "only in " + ("B" if a is None else "A")
        return row
    row["delta"] = {m: _delta(a[m], b[m]) for m in METRICS}
    for m in METRICS:
        row["verdicts"][m] = verdict(a[m], a_ci.get(m), b[m], b_ci.get(m), thin)
        if row["verdicts"][m] == CANNOT_TELL:
            row["why"][m] = why_cannot_tell(a[m], a_ci.get(m), b[m], b_ci.get(m), thin)
    moved = [(v, m) for m, v in row["verdicts"].items() if v in ("worse", "better")]
    parts = [f"{v}: {', '.join(m for w, m in moved if w == v)}" for v in ("worse", "better") if any(w == v for w, _ in moved)]
    values = set(row["verdicts"].values())
    if parts:
        row["summary"] = "; ".join(parts)
    elif CANNOT_TELL in values:
        row["summary"] = f"{CANNOT_TELL}: {sorted(set(row['why'].values()))[0]}"
    else:
        row["summary"] = "unchanged" if values == {"unchanged"} else sorted(values - {"unchanged"})[0]
    return row


def compare_task(a: dict, b: dict, thin: str | None = None) -> list[dict]:
    """One row for micro, then one per label or type that either run has something to score on."""
    a_ci, b_ci = a.get("ci") or {}, b.get("ci") or {}
    rows = [_row("micro", a["micro"], a_ci.get("micro") or {}, b["micro"], b_ci.get("micro") or {}, thin)]
    for label in sorted(set(a["per_label"]) | set(b["per_label"])):
        sa, sb = a["per_label"].get(label), b["per_label"].get(label)
        if not any(s and (s["support"] or s["fp"]) for s in (sa, sb)):
            continue  # nothing to score in either run
        rows.append(_row(label, sa, (a_ci.get("per_label") or {}).get(label) or {}, sb, (b_ci.get("per_label") or {}).get(label) or {}, thin))
    return rows


def _too_few(a: dict, b: dict, min_documents: int) -> str | None:
    small = [f"{count(m.get('documents') or 0, 'document')} in {side}" for side, m in (("A", a), ("B", b)) if (m.get("documents") or 0) < min_documents]
    return f"{' and '.join(small)} (fewer than {min_documents})" if small else None


def gold_sha256(metrics: dict) -> str | None:
    """The sha256 of the gold file(s) the run was scored on, as its metrics.json records it."""
    return (((metrics.get("provenance") or {}).get("gold")) or {}).get("sha256")


def check_same_gold(a: dict, b: dict, allow_different_gold: bool) -> list[str]:
    """Notes on the gold the two runs were scored on; different gold is an error unless allowed."""
    sha_a, sha_b = gold_sha256(a), gold_sha256(b)
    if sha_a is None or sha_b is None:
        sides = " and ".join(side for side, sha in (("A", sha_a), ("B", sha_b)) if sha is None)
        return [f"run {sides} does not record the sha256 of its gold file, so whether both were scored on the same gold cannot be checked"]
    if sha_a == sha_b:
        return []
    message = (
        f"the runs were scored on different gold files (sha256 {sha_a[:12]} in A, {sha_b[:12]} in B): "
        "their differences mix the models with the annotations"
    )
    if not allow_different_gold:
        raise WorkbenchError(f"{message}; evaluate both models on the same gold, or pass --allow-different-gold")
    return [f"**WARNING: {message}**"]


def compare_runs(a: dict, b: dict, min_documents: int = MIN_DOCUMENTS, allow_different_gold: bool = False) -> dict:
    """Rows per task and label with verdicts; "regressions": worse beyond noise; "thin_drops": F1 fell, cannot tell."""
    if min_documents < 1:
        raise WorkbenchError(f"the minimum number of documents must be 1 or more, got {min_documents}")
    result = {"a": _describe(a), "b": _describe(b), "min_documents": min_documents, "tasks": {}, "regressions": [], "thin_drops": [], "notes": []}
    result["notes"] += check_same_gold(a, b, allow_different_gold)
    thin = _too_few(a, b, min_documents)
    for task, _ in TASKS:
        ta, tb = _task(a, task), _task(b, task)
        if ta is None or tb is None:
            continue
        rows = compare_task(ta, tb, thin)
        result["tasks"][task] = rows
        result["regressions"] += [f"{task} {row['name']} {m}" for row in rows for m, v in row["verdicts"].items() if v == "worse"]
        result["thin_drops"] += [
            f"{task} {row['name']} F1 ({row['why']['f1']})"
            for row in rows
            if row["verdicts"].get("f1") == CANNOT_TELL and (row["delta"]["f1"] or 0) < 0
        ]
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
    return {
        "model": metrics.get("model"), "split": metrics.get("split"), "documents": metrics.get("documents"),
        "gold_sha256": gold_sha256(metrics), "folds": folds,
    }


def _cell(scores: dict | None, ci: dict, metric: str) -> str:
    if scores is None or (metric == "precision" and not scores["tp"] + scores["fp"]):
        return "–"  # not in this run, or no prediction to be precise about
    return pct_ci(scores[metric], ci.get(metric))


def gate_failures(result: dict, allow_thin_evidence: bool = False) -> list[str]:
    """Why `--fail-on-regression` fails (empty: it passes): anything worse, or an F1 that fell where one cannot tell."""
    failures = []
    if result["regressions"]:
        failures.append(f"worse beyond noise: {', '.join(result['regressions'])}")
    if result["thin_drops"] and not allow_thin_evidence:
        failures.append(
            f"F1 fell where the evidence is too thin to tell: {', '.join(result['thin_drops'])} "
            "(evaluate on more documents, or pass --allow-thin-evidence)"
        )
    return failures


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
        f"within noise: the intervals overlap; cannot tell: a run has fewer than {result['min_documents']} documents, "
        "an interval is missing or degenerate, or a figure is undefined."
    )
    for note in result["notes"]:
        report.p(f"Note: {note}.")
    report.p("**Regressions: " + (", ".join(result["regressions"]) if result["regressions"] else "none") + "**")
    if result["thin_drops"]:
        report.p("**F1 fell, but the evidence is too thin to tell: " + ", ".join(result["thin_drops"]) + "**")
    for task, title in TASKS:
        if task not in result["tasks"]:
            continue
        report.h(2, title)
        rows = []
        for row in result["tasks"][task]:
            support = "/".join(str(s["support"]) if s else "–" for s in (row["a"], row["b"])) if row["name"] != "micro" else ""
            cells = [f"{_cell(row['a'], row['a_ci'], m)} → {_cell(row['b'], row['b_ci'], m)}" for m in METRICS]
            change = (row.get("delta") or {}).get("f1")
            delta = f"{'+' if change >= 0 else ''}{pct(change)}" if change is not None else ""
            loud = "worse" in row["summary"] or (row["verdicts"].get("f1") == CANNOT_TELL and (change or 0) < 0)
            summary = f"**{row['summary'].upper()}**" if loud else row["summary"]
            rows.append([row["name"], support, *cells, delta, summary])
        report.table(["", "support A/B", "precision A → B", "recall A → B", "F1 A → B", "Δ F1", "verdict"], rows, "lrrrrrl")
    return report
