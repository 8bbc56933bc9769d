"""Tune a trained relation model's per-type thresholds on dev documents and store them with the model."""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.fileio import replace_dir, staging_dir, write_json

REPORT_NAME = "relation_thresholds.json"


def read_docbin(nlp, path: str | Path) -> list:
    from spacy.tokens import DocBin

    path = Path(path)
    if not path.exists():
        raise WorkbenchError("DocBin not found (run `workbench data` first)", path=path)
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def tune_model_thresholds(
    model_dir: str | Path, dev_path: str | Path, target_precision: float | None = None, min_support: int = 20
) -> dict:
    """Tune on the dev docs' gold entities and relations, save the model in place, return the report.

    The report also lands in MODEL/relation_thresholds.json, so the choice can be read later.
    """
    import spacy

    from workbench.relations import tune_thresholds

    if target_precision is not None and not 0.0 < target_precision <= 1.0:
        raise WorkbenchError(f"target precision must be in (0, 1], got {target_precision}")
    nlp = spacy.load(model_dir)
    if "relation_extractor" not in nlp.pipe_names:
        raise WorkbenchError("the pipeline has no relation_extractor", path=model_dir)
    per_type = tune_thresholds(nlp.get_pipe("relation_extractor"), read_docbin(nlp, dev_path), target_precision, min_support)
    report = {
        "dev": str(dev_path),
        "objective": f"precision >= {target_precision}" if target_precision is not None else "best F1",
        "min_support": min_support,
        "per_type": per_type,
    }
    staging = staging_dir(model_dir)
    nlp.to_disk(staging)
    write_json(staging / REPORT_NAME, report)
    replace_dir(staging, model_dir)
    return report


def format_threshold_report(report: dict) -> str:
    lines = [f"relation thresholds ({report['objective']}, tuned where dev has >= {report['min_support']} gold relations):"]
    for label, row in report["per_type"].items():
        how = "tuned" if row["changed"] else "kept"
        lines.append(
            f"  {label:<14} {row['threshold']:.3f} {how:<5}  dev P {row['precision']:.3f} R {row['recall']:.3f} "
            f"F1 {row['f1']:.3f}  support {row['support']}"
        )
    return "\n".join(lines)
