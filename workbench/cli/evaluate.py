"""`workbench evaluate`: score a trained pipeline on held-out gold documents and write the report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench.cli._common import clean_errors


@clean_errors
def evaluate(
    model: Path = typer.Option(..., help="Trained pipeline"),
    data: List[Path] = typer.Option(..., help="Gold annotation file(s)"),
    split: Optional[str] = typer.Option(None, help="Only gold documents of this corpus split"),
    output: Path = typer.Option(..., "--output", "-o", help="Report folder"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus with the document split"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help="Label config"),
):
    """Write OUTPUT/metrics.json and OUTPUT/report.md; print the headline precision."""
    from workbench.corpus.store import corpus_index
    from workbench.evaluation.evaluate import evaluate_records, select_gold
    from workbench.evaluation.report import write_report
    from workbench.labels import load_labels
    from workbench.predict import load_pipeline

    scheme = load_labels(labels)
    index = corpus_index(corpus) if split else None
    gold = select_gold(data, split, index)
    nlp = load_pipeline(model)
    evaluation = evaluate_records(nlp, gold, str(model), split, scheme.entity_labels, scheme.relation_types, scheme.symmetric_types)
    paths = write_report(evaluation, output)
    micro = evaluation.ner.micro()
    typer.echo(
        f"NER precision {micro.precision:.3f} (recall {micro.recall:.3f}, F1 {micro.f1:.3f}) "
        f"on {len(gold)} {split or 'gold'} documents"
    )
    if evaluation.rel is not None:
        rel = evaluation.rel.micro()
        typer.echo(f"REL precision {rel.precision:.3f} (recall {rel.recall:.3f}, F1 {rel.f1:.3f}) end to end")
    typer.echo(f"report: {paths['report']}")
