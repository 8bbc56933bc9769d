"""`workbench benchmark conll04`: train the project's configs on a public benchmark and print the figures."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.cli._common import clean_errors

app = typer.Typer(help="Train and score the project's configs on public benchmarks.", no_args_is_help=True)


@app.command("conll04")
@clean_errors
def benchmark_conll04(
    config: Path = typer.Option(Path("configs/benchmarks/conll04.yml"), help="Benchmark config"),
    data: Optional[Path] = typer.Option(None, help="CoNLL04 folder (default: the config's)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Work and result folder (default: the config's)"),
    target_precision: Optional[float] = typer.Option(None, help="Tune relation thresholds for this dev precision instead of F1"),
    base_model: Optional[str] = typer.Option(None, help="Pipeline to start from (default: the config's, en_core_web_md); 'none' trains from scratch"),
):
    """Train NER + REL on train, tune thresholds on dev, score end to end on test; write benchmark.json."""
    from workbench.benchmarks.conll04 import read_conll04, write_splits
    from workbench.benchmarks.config import load_benchmark_config
    from workbench.benchmarks.run import format_summary, run_benchmark
    from workbench.labels import load_labels
    from workbench.training.tune import format_threshold_report

    settings = load_benchmark_config(config, "conll04")
    settings.data = data or settings.data
    settings.output = output or settings.output
    if target_precision is not None:
        settings.target_precision = target_precision
    if base_model is not None:
        settings.base_model = base_model
    scheme = load_labels(settings.labels)
    by_split = read_conll04(settings.data, scheme)
    write_splits(by_split, settings.output / "data")
    result = run_benchmark(settings, by_split, scheme)
    typer.echo(format_threshold_report(result["thresholds"]))
    typer.echo(format_summary(result))
    typer.echo(f"results: {settings.output / 'benchmark.json'}; report: {result['report']}")
