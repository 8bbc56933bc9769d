"""`workbench compare RUN_A RUN_B`: what got better or worse between two evaluation reports."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.cli._common import clean_errors


@clean_errors
def compare(
    run_a: Path = typer.Argument(..., help="Report folder (or metrics.json) of the earlier run"),
    run_b: Path = typer.Argument(..., help="Report folder (or metrics.json) of the later run"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the comparison here (.json: as JSON, else Markdown)"),
    fail_on_regression: bool = typer.Option(False, help="Exit 1 when anything got worse beyond noise"),
):
    """Per label and relation type: precision, recall and F1 of A and B with intervals, and a verdict."""
    from workbench.errors import WorkbenchError
    from workbench.evaluation.compare import compare_runs, comparison_report, load_metrics
    from workbench.evaluation.report import render_markdown
    from workbench.fileio import atomic_open, write_json

    result = compare_runs(load_metrics(run_a), load_metrics(run_b))
    text = render_markdown(comparison_report(result, str(run_a), str(run_b)))
    typer.echo(text, nl=False)
    if output is not None:
        if output.suffix == ".json":
            write_json(output, result)
        else:
            with atomic_open(output) as fh:
                fh.write(text)
        typer.echo(f"comparison: {output}")
    if fail_on_regression and result["regressions"]:
        raise WorkbenchError(f"worse beyond noise: {', '.join(result['regressions'])}")
