"""A final model on every gold document, trained as cross-validation measured it, with a model card that says so.

With a handful of gold documents, holding one out for a test costs a fifth of the data
and still gives no interval. Cross-validation has already measured the training recipe
on every document; the final model then trains on all of them, train, dev and test
together. Nothing is left to choose a checkpoint or a threshold on, so:

- each part trains for the median of the folds' best steps (the checkpoints their inner
  dev folds chose), and the last checkpoint is kept;
- each relation type gets the threshold cross-validation recommends from the pooled
  out-of-fold scores; a type with no recommendation keeps the config's;
- the model card (meta.json `"workbench"."card"` and README.md beside the model) carries
  the cross-validated estimate with its intervals and says plainly that the model has no
  held-out score of its own; the training documents (ids and text sha256) are in its
  provenance, so `workbench evaluate` can refuse to score it on them.

The crossval report must have been made with the same gold, configs and label config;
the base model and spaCy overrides are taken from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import spacy

from workbench.annotations.validate import check_gold
from workbench.corpus.store import Corpus
from workbench.docs import gold_docs, make_gold_nlp, write_docbin
from workbench.errors import WorkbenchError
from workbench.fileio import sha256_of_files, staged_dir, write_json
from workbench.labels import load_labels
from workbench.training.pipeline import JOINT, PipelineSpec, train_pipeline
from workbench.training.steps import median_step

# Where a PipelineSpec keeps each training part's spaCy overrides.
OVERRIDE_FIELDS = {"ner": "ner_overrides", "rel": "rel_overrides", JOINT: "joint_overrides"}

CARD_NAME = "README.md"
THRESHOLDS_NAME = "relation_thresholds.json"


@dataclass(frozen=True)
class FinalPlan:
    """What cross-validation chose for the final model."""

    steps: dict  # part -> steps to train
    fold_steps: dict  # part -> each fold's best step
    thresholds: dict  # relation type -> {"threshold": float | None (config's), "note": str}
    spec: PipelineSpec  # the crossval's spec with the fixed steps


@dataclass(frozen=True)
class FinalModel:
    path: Path
    documents: int
    card: dict  # what meta.json keeps under "workbench"."card"; README.md says it in words


def read_crossval(crossval_dir: str | Path) -> dict:
    path = Path(crossval_dir) / "metrics.json"
    if not path.exists():
        raise WorkbenchError("no crossval report here (run `workbench crossval GOLD -o DIR` first)", path=path)
    metrics = json.loads(path.read_text(encoding="utf-8"))
    if "crossval" not in metrics or "folds" not in metrics:
        raise WorkbenchError("not a cross-validation report (an evaluate report has no folds)", path=path)
    return metrics


def plan_final(metrics: dict, spec: PipelineSpec, gold_paths: list[Path], report: Path) -> FinalPlan:
    """The steps and thresholds of a crossval report, after checking it measured this gold, these configs and labels."""
    crossval, provenance = metrics["crossval"], metrics.get("provenance") or {}
    # The encoder and base model decide which configs are the defaults (transfer, -scratch or trf), so they come first.
    spec = replace(
        spec,
        encoder=crossval.get("encoder") or spec.encoder,
        base_model=crossval.get("base_model") or spec.base_model,
        transformer=crossval.get("transformer"),
    )
    parts = spec.training_parts()
    checks = [
        ("gold", (provenance.get("gold") or {}).get("sha256"), sha256_of_files(gold_paths)),
        ("label config", crossval.get("labels_sha256"), sha256_of_files([spec.labels])),
        *((f"{part} config", (provenance.get("config_sha256") or {}).get(part), sha256_of_files([spec.config(part)])) for part in parts),
    ]
    for what, measured, now in checks:
        if measured != now:
            raise WorkbenchError(
                f"the crossval report was made with another {what} (sha256 {str(measured)[:12]}, now {now[:12]}): "
                "rerun `workbench crossval` with these files, so the final model is the one it measured",
                path=report,
            )
    fold_steps = {part: [(fold.get("best_step") or {}).get(part) for fold in metrics["folds"]] for part in parts}
    if any(not isinstance(step, int) for steps in fold_steps.values() for step in steps):
        raise WorkbenchError(
            "the crossval report does not say at which step each fold's checkpoint was taken (a report from before "
            "steps were recorded, or configs without the workbench.record_step.v1 callback): rerun `workbench crossval`",
            path=report,
        )
    steps = {part: median_step(values) for part, values in fold_steps.items()}
    overrides = crossval.get("overrides") or {}
    # Exactly `steps` updates and the last checkpoint: no dev documents are left to stop early or choose on.
    fixed = {
        OVERRIDE_FIELDS[part]: {**(overrides.get(part) or {}), "training.max_steps": n, "training.eval_frequency": n, "training.patience": 0}
        for part, n in steps.items()
    }
    return FinalPlan(steps, fold_steps, crossval_thresholds(crossval), replace(spec, tune=False, **fixed))


def crossval_thresholds(crossval: dict) -> dict:
    """Per relation type: the pooled recommendation, or None (the config's threshold) with why."""
    pooled = (crossval.get("pooled_thresholds") or {}).get("per_type") or {}
    return {
        label: {"threshold": row["recommended"], "note": row["note"] if row["recommended"] is not None else f"config's threshold: {row['note']}"}
        for label, row in pooled.items()
    }


def train_final(
    gold_paths: list[str | Path], corpus: str | Path, crossval_dir: str | Path, spec: PipelineSpec, output: str | Path, run_dir: str | Path
) -> FinalModel:
    """Train NER -> REL on every gold document as the crossval report says, write its card, install it at `output`.

    Training runs in run_dir; the installed model is replaced only by a finished, carded one.
    """
    gold_paths, run_dir, report = [Path(p) for p in gold_paths], Path(run_dir), Path(crossval_dir)
    metrics = read_crossval(report)
    plan = plan_final(metrics, spec, gold_paths, report)
    records = check_gold(gold_paths, load_labels(spec.labels), Corpus.open(corpus))
    if not records:
        raise WorkbenchError(f"no gold documents in {', '.join(map(str, gold_paths))}")
    train_path = write_docbin(run_dir / "data" / "train.spacy", gold_docs(records, make_gold_nlp()))
    # spaCy wants a dev corpus; with eval_frequency = max_steps it is only scored at the first and last step.
    trained = train_pipeline(plan.spec, train_path, train_path, run_dir, run_dir / "pipeline", checkpoint="model-last")
    nlp = spacy.load(trained.path)
    applied = apply_thresholds(nlp, plan.thresholds)
    training = nlp.meta["workbench"]["training"]
    # spaCy was handed the training DocBin as dev, but nothing was chosen on it: say so, or evaluate would call them dev.
    training["dev"] = {"documents": 0, "doc_ids": [], "note": f"none: steps and relation thresholds from the crossval report {report}"}
    documents = [{"doc_id": d, "sha256": h} for d, h in zip(training["train"]["doc_ids"], training["train"]["text_sha256"])]
    card = model_card(metrics, report, plan, applied, documents)
    nlp.meta["workbench"]["card"] = card
    with staged_dir(output) as stage:  # the installed model is replaced only by a whole one
        nlp.to_disk(stage)
        write_json(stage / THRESHOLDS_NAME, {"source": "crossval", "report": str(report), "per_type": applied})
        (stage / CARD_NAME).write_text(card_markdown(card), encoding="utf-8")
    return FinalModel(Path(output), len(records), card)


def apply_thresholds(nlp, thresholds: dict) -> dict:
    """Set the recommended thresholds on the relation component; {type: {"threshold", "note"}} as it now runs."""
    component = nlp.get_pipe("relation_extractor")
    applied = {}
    for label in component.labels:
        row = thresholds.get(label) or {"threshold": None, "note": "config's threshold: crossval reports nothing for this type"}
        if row["threshold"] is not None:
            component.set_threshold(label, row["threshold"])
        applied[label] = {"threshold": round(component.thresholds[label], 6), "note": row["note"]}
    return applied


# --- the model card ---------------------------------------------------------------------------------

NO_HELD_OUT = (
    "This model was trained on every gold document ({n}), so it has no held-out score of its own: "
    "any figure measured on those documents would be a training score. The figures below are the "
    "cross-validated estimate of how this training recipe does on documents it has not seen: {k} folds, "
    "each trained on the other folds and scored on its own documents, all out-of-fold predictions pooled and "
    "scored once ({intervals}). Each fold trained on fewer documents than this model, so the estimate leans "
    "pessimistic; with so few documents it is rough."
)


def _interval_words(bootstrap: dict) -> str:
    """How the crossval report's intervals were drawn, or why it has none (its own note)."""
    if bootstrap.get("intervals"):
        return f"with {round(100 * bootstrap['level'])}% bootstrap intervals over the documents"
    return bootstrap.get("note") or "no intervals"


def _figures(task: dict) -> dict:
    """micro P/R/F1 with intervals, and per label, from an evaluate-shaped block of metrics.json."""
    ci = task.get("ci") or {}

    def with_ci(counts: dict, intervals: dict | None) -> dict:
        intervals = intervals or {}
        return {m: {"value": counts[m], "ci": intervals.get(m)} for m in ("precision", "recall", "f1")} | {"support": counts["tp"] + counts["fn"]}

    return {
        "micro": with_ci(task["micro"], ci.get("micro")),
        "per_label": {label: with_ci(counts, (ci.get("per_label") or {}).get(label)) for label, counts in task["per_label"].items()},
    }


def _at_nested_cuts(crossval: dict) -> dict | None:
    """Relations end to end with each fold at its nested cut (experiments.pooled_thresholds), shaped as _figures makes them.

    The folds ran at their own thresholds; this model runs at the recommended ones, so this is
    its estimate. No intervals: the counts are summed over folds, not kept per document. None
    for a report from before crossval summed the types.
    """
    pooled = crossval.get("pooled_thresholds") or {}
    if "all_types" not in pooled:
        return None

    def block(figures: dict) -> dict:
        return {**figures, "fn": figures["gold"] - figures["tp"]}

    total = pooled["all_types"]
    return _figures({"micro": block(total["nested"]), "per_label": {label: block(f) for label, f in total["nested_per_type"].items()}})


def model_card(metrics: dict, report: Path, plan: FinalPlan, thresholds: dict, documents: list[dict]) -> dict:
    crossval = metrics["crossval"]
    estimate = {"ner": _figures(metrics["ner"])}
    if "rel" in metrics:
        at_thresholds = _at_nested_cuts(crossval)
        if at_thresholds is not None:
            estimate["rel_at_thresholds"] = at_thresholds
        estimate["rel"] = _figures(metrics["rel"])
        estimate["rel_gold_entities"] = _figures(metrics["rel"]["gold_entities"])
    return {
        "held_out_score": None,
        "statement": NO_HELD_OUT.format(n=len(documents), k=crossval["folds"], intervals=_interval_words(metrics.get("bootstrap") or {})),
        "crossval": {
            "report": str(report),
            "metrics_sha256": sha256_of_files([report / "metrics.json"]),
            "folds": crossval["folds"],
            "documents": metrics["documents"],
            "date": (metrics.get("provenance") or {}).get("date"),
        },
        "estimate": estimate,
        "steps": {part: {"steps": n, "folds": plan.fold_steps[part], "rule": "median of the folds' best steps"} for part, n in plan.steps.items()},
        "thresholds": thresholds,
        "training_documents": documents,
    }


def _cell(figure: dict) -> str:
    if figure["value"] is None:
        return "–"
    ci = figure["ci"]
    return f"{figure['value']:.3f}" + (f" ({ci['lo']:.3f}–{ci['hi']:.3f})" if ci else "")


def card_markdown(card: dict) -> str:
    """README.md beside the model: the card in words and tables."""
    titles = {
        "ner": "Entities (strict)",
        "rel_at_thresholds": "Relations end to end, at this model's thresholds (each fold at the cut the other folds chose)",
        "rel": "Relations end to end, as the folds ran (each at its own thresholds)",
        "rel_gold_entities": "Relations on gold entities (the relation model alone, as the folds ran)",
    }
    lines = ["# Model card", "", "**No held-out score.** " + card["statement"], ""]
    crossval = card["crossval"]
    lines += [f"Estimate: `{crossval['report']}/metrics.json` (sha256 `{crossval['metrics_sha256'][:12]}`), "
              f"{crossval['folds']} folds over {crossval['documents']} documents, {crossval['date']}.", ""]
    for task, title in titles.items():
        if task not in card["estimate"]:
            continue
        figures = card["estimate"][task]
        lines += [f"## {title}", "", "| | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        rows = [("**micro**", figures["micro"]), *figures["per_label"].items()]
        for name, row in rows:
            lines.append(f"| {name} | {_cell(row['precision'])} | {_cell(row['recall'])} | {_cell(row['f1'])} | {row['support']} |")
        lines.append("")
    lines += ["## How it was trained", ""]
    for part, steps in card["steps"].items():
        lines.append(f"- {part}: {steps['steps']} steps, the {steps['rule']} ({', '.join(map(str, steps['folds']))}); the last checkpoint")
    lines += ["", "| relation type | threshold | from |", "|---|---:|---|"]
    lines += [f"| {label} | {row['threshold']:.3f} | {row['note']} |" for label, row in card["thresholds"].items()]
    lines += ["", f"Trained on {len(card['training_documents'])} documents (their ids and text sha256 are in meta.json, "
              "where `workbench evaluate` reads them): " + ", ".join(d["doc_id"] for d in card["training_documents"]) + ".", ""]
    return "\n".join(lines)
