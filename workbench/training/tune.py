"""Tune a trained relation model's per-type thresholds on dev documents and store them with the model."""

from __future__ import annotations

from pathlib import Path

import spacy

from workbench.docs import read_docbin, through_encoders
from workbench.errors import WorkbenchError
from workbench.fileio import replace_dir, staging_dir, write_json
from workbench.relations import tune_thresholds
from workbench.relations.thresholds import ONE_SE_OBJECTIVE, ONE_SE_RULE

REPORT_NAME = "relation_thresholds.json"


def tune_model_thresholds(
    model_dir: str | Path, dev_path: str | Path, target_precision: float | None = None, min_support: int = 20
) -> dict:
    """Tune on the dev docs' gold entities and relations, save the model in place, return the report.

    The report also lands in MODEL/relation_thresholds.json, so the choice can be read later.
    """
    if target_precision is not None and not 0.0 < target_precision <= 1.0:
        raise WorkbenchError(f"target precision must be in (0, 1], got {target_precision}")
    nlp = spacy.load(model_dir)
    if "relation_extractor" not in nlp.pipe_names:
        raise WorkbenchError("the pipeline has no relation_extractor", path=model_dir)
    # A relation component that listens to a shared encoder needs it run first; the gold entities stay.
    docs = through_encoders(nlp, read_docbin(nlp, dev_path))
    per_type = tune_thresholds(nlp.get_pipe("relation_extractor"), docs, target_precision, min_support)
    report = {
        "dev": str(dev_path),
        # The rule a type is tuned by, when its dev support allows; each type's "status" and "note" say what happened.
        "objective": f"precision >= {target_precision}" if target_precision is not None else ONE_SE_OBJECTIVE,
        "min_support": min_support,
        "summary": threshold_summary(per_type, target_precision, min_support),
        "per_type": per_type,
    }
    staging = staging_dir(model_dir)
    nlp.to_disk(staging)
    write_json(staging / REPORT_NAME, report)
    replace_dir(staging, model_dir)
    return report


def threshold_summary(per_type: dict, target_precision: float | None, min_support: int) -> str:
    """One line: how many types were tuned and by which rule, how many kept; never "tuned" when none was."""
    tuned = [label for label, row in per_type.items() if row["status"] == "tuned"]
    kept = len(per_type) - len(tuned)
    if not tuned:
        return (
            "relation thresholds: none tuned, every type kept its threshold "
            f"(tuning needs >= {min_support} dev relations of a type and a cut that qualifies)"
        )
    rule = ONE_SE_RULE if target_precision is None else f"lowest cut with dev precision >= {target_precision:g}"
    return f"relation thresholds: {len(tuned)} tuned on dev ({rule}), {kept} kept"


def format_threshold_report(report: dict) -> str:
    """The summary line, then one line per type: threshold, what happened to it, and dev P/R/F1 at it."""
    lines = [f"{report['summary']}:"]
    width = max((len(label) for label in report["per_type"]), default=0)
    for label, row in report["per_type"].items():
        lines.append(
            f"  {label:<{width}} {row['threshold']:.3f}  {row['note']}; "
            f"dev at {row['threshold']:.3f}: P {row['precision']:.3f} R {row['recall']:.3f} F1 {row['f1']:.3f}"
        )
    return "\n".join(lines)
