"""`workbench compare RUN_A RUN_B`: what got better or worse between two evaluation reports."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.cli._common import clean_errors
from workbench.errors import WorkbenchError
from workbench.fileio import atomic_open, write_json
from workbench.metrics import MIN_DOCUMENTS


@clean_errors
def compare(
    run_a: Path = typer.Argument(..., help="Report folder (or metrics.json) of the earlier run"),
    run_b: Path = typer.Argument(..., help="Report folder (or metrics.json) of the later run"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the comparison here (.json: as JSON, else Markdown)"),
    fail_on_regression: bool = typer.Option(
        False, help="Exit 1 when anything got worse beyond noise, or F1 fell where the evidence is too thin to tell"
    ),
    allow_thin_evidence: bool = typer.Option(False, help="With --fail-on-regression: do not fail on an F1 drop that cannot be told"),
    min_documents: int = typer.Option(MIN_DOCUMENTS, help="Fewer documents in a run than this: every changed figure is 'cannot tell'"),
    allow_different_gold: bool = typer.Option(False, help="Compare runs scored on different gold files (a loud warning instead of an error)"),
):
    """Per label and relation type: precision, recall and F1 of A and B with intervals, and a verdict."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.evaluation.compare import compare_runs, comparison_report, gate_failures, load_metrics
    from workbench.evaluation.report import render_markdown

    result = compare_runs(load_metrics(run_a), load_metrics(run_b), min_documents, allow_different_gold)
    text = render_markdown(comparison_report(result, str(run_a), str(run_b)))
    typer.echo(text, nl=False)
    if output is not None:
        if output.suffix == ".json":
            write_json(output, result)
        else:
            with atomic_open(output) as fh:
                fh.write(text)
        typer.echo(f"comparison: {output}")
    failures = gate_failures(result, allow_thin_evidence) if fail_on_regression else []
    if failures:
        raise WorkbenchError("; ".join(failures))
