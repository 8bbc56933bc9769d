"""`workbench evaluate`: score a trained pipeline on held-out gold documents and write the report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench.cli._common import GPU_ID, check_splits, clean_errors
from workbench.words import count, score


def _headline(name: str, micro, ci: dict | None, where: str) -> str:
    interval = ", no interval"
    if ci and ci["micro"]["precision"]:
        lo, hi = ci["micro"]["precision"]["lo"], ci["micro"]["precision"]["hi"]
        interval = f", precision 95% interval {lo:.3f}-{hi:.3f}"
    figures = f"recall {score(micro['recall'])}, F1 {score(micro['f1'])}{interval}"
    return f"{name} precision {score(micro['precision'])} ({figures}) {where}"


def print_summary(metrics: dict, paths: dict, where: str) -> None:
    """The headline precisions of the model and the baselines, the notes and where the report is."""
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
    gpu_id: int = GPU_ID,
):
    """Write OUTPUT/metrics.json, report.md, report.html and plots; print the headline precision."""
    from workbench.corpus.store import corpus_index
    from workbench.errors import WorkbenchError
    from workbench.evaluation.bootstrap import BootstrapSettings
    from workbench.evaluation.evaluate import evaluate_records, gate_failures, select_gold
    from workbench.evaluation.provenance import describe_provenance, selection_doc_ids
    from workbench.evaluation.report import publish_report
    from workbench.labels import load_labels
    from workbench.predict import load_pipeline
    from workbench.training.encoders import use_device

    check_splits(split)
    use_device(gpu_id)
    if bootstrap < 0:
        raise WorkbenchError(f"--bootstrap must be 0 or more, got {bootstrap}")
    scheme = load_labels(labels)
    # The corpus, when there is one, also tells which evaluated documents are training documents.
    index = corpus_index(corpus) if split or (corpus / "dataset_info.json").exists() else None
    gold = select_gold(data, split, index)
    nlp = load_pipeline(model)
    split_name = "+".join(split) if split else None
    evaluation = evaluate_records(nlp, gold, str(model), split_name, scheme, BootstrapSettings(bootstrap, seed))
    evaluation.provenance = describe_provenance(model, nlp.meta, data)
    evaluation.note_training_documents(index)
    evaluation.note_selection_documents(selection_doc_ids(nlp.meta))
    if baselines:
        _add_baselines(evaluation, nlp, data, index)
    paths = publish_report(evaluation, output, html=html)
    print_summary(evaluation.metrics(), paths, "on " + count(len(gold), f"{split_name or 'gold'} document"))
    failures = gate_failures(evaluation, min_precision, min_rel_precision)
    if failures:
        raise WorkbenchError("; ".join(failures))


def _add_baselines(evaluation, nlp, data: List[Path], index: dict | None) -> None:
    from workbench.evaluation.baselines import run_baselines
    from workbench.evaluation.evaluate import select_gold

    if index is None:
        evaluation.notes.append("no baselines: they are built from the training split, and there is no corpus (--corpus)")
        return
    train = [r for r in select_gold(data, None, None) if r.doc_id in index and index[r.doc_id]["split"] == "train"]
    if not train:
        evaluation.notes.append("no baselines: no gold document is in the training split")
        return
    # The relation baseline chooses among the same candidate pairs as the model does.
    max_distance = nlp.get_pipe("relation_extractor").max_distance if "relation_extractor" in nlp.pipe_names else 10
    run_baselines(evaluation, train, max_distance)
