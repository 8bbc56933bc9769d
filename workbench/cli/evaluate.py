"""`workbench evaluate`: score a trained pipeline on held-out gold documents and write the report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench.cli._common import GPU_ID, check_splits, clean_errors
from workbench.errors import WorkbenchError
from workbench.metrics import BootstrapSettings, score
from workbench.words import count


def _headline(name: str, micro, ci: dict | None, where: str) -> str:
    interval = ", no interval"
    if ci and ci["micro"]["precision"]:
        lo, hi = ci["micro"]["precision"]["lo"], ci["micro"]["precision"]["hi"]
        interval = f", precision 95% interval {lo:.3f}-{hi:.3f}"
    figures = f"recall {score(micro['recall'])}, F1 {score(micro['f1'])}{interval}"
    return f"{name} precision {score(micro['precision'])} ({figures}) {where}"


def print_summary(metrics: dict, paths: dict, where: str) -> None:
    """The headline precisions of the model and the baselines, the notes and where the report is."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.evaluation.report import interval_advice

    typer.echo(_headline("NER", metrics["ner"]["micro"], metrics["ner"]["ci"], where))
    if "rel" in metrics:
        typer.echo(_headline("REL", metrics["rel"]["micro"], metrics["rel"]["ci"], "end to end"))
    for name, baseline in metrics.get("baselines", {}).items():
        on = f"on {', '.join(baseline['labels'])}"
        typer.echo(_headline(f"  baseline {name}: NER", baseline["ner"]["micro"], baseline["ner"]["ci"], on))
        if "model_ner" in baseline:
            # The model on the baseline's own labels: the comparison that is fair to the baseline.
            typer.echo(_headline("    the model: NER", baseline["model_ner"]["micro"], baseline["model_ner"]["ci"], on))
    advice = interval_advice(metrics)
    if advice:
        typer.echo(f"note: {metrics['bootstrap']['note']}; {advice}")
    for note in metrics.get("notes", []):
        typer.echo(f"note: {note}")
    typer.echo(f"report: {paths['report']}" + (f" and {paths['html']}" if "html" in paths else ""))


@clean_errors
def evaluate(
    model: Path = typer.Option(..., help="Trained pipeline"),
    data: List[Path] = typer.Option(..., help="Gold: canonical JSONL files and/or snapshot folders, each document once (repeat)"),
    split: Optional[List[str]] = typer.Option(None, help="Only gold documents of this corpus split (repeat for several)"),
    output: Path = typer.Option(..., "--output", "-o", help="Report folder"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus with the document split"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help="Label config"),
    bootstrap: int = typer.Option(1000, help="Bootstrap resamples of the documents for the intervals (0: none)"),
    seed: int = typer.Option(0, help="Seed of the bootstrap"),
    baselines: bool = typer.Option(True, "--baselines/--no-baselines", help="Score the baselines beside the model (needs the corpus)"),
    html: bool = typer.Option(True, "--html/--no-html", help="Also write report.html"),
    min_precision: Optional[float] = typer.Option(None, help="Exit 1 if NER micro precision is below this (a CI gate)"),
    min_rel_precision: Optional[float] = typer.Option(None, help="Exit 1 if end-to-end relation micro precision is below this"),
    allow_training_documents: bool = typer.Option(
        False, "--allow-training-documents",
        help="Score documents the model trained on (by its provenance) anyway; every figure is then marked not held out",
    ),
    gpu_id: int = GPU_ID,
):
    """Write OUTPUT/metrics.json, report.md, report.html and plots; print the headline precision."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.evaluation.evaluate import gate_failures
    from workbench.evaluation.run import evaluate as evaluate_model
    from workbench.training.encoders import use_device

    check_splits(split)
    use_device(gpu_id)
    if bootstrap < 0:
        raise WorkbenchError(f"--bootstrap must be 0 or more, got {bootstrap}")
    run = evaluate_model(model, data, split, output, corpus, labels, BootstrapSettings(bootstrap, seed), baselines, html, allow_training_documents)
    where = "on " + count(len(run.evaluation.doc_ids), f"{'+'.join(split) if split else 'gold'} document")
    if run.evaluation.trained_on:
        where += f", NOT HELD OUT (the model trained on {len(run.evaluation.trained_on)} of them)"
    print_summary(run.metrics, run.paths, where)
    failures = gate_failures(run.evaluation, min_precision, min_rel_precision)
    if failures:
        raise WorkbenchError("; ".join(failures))
