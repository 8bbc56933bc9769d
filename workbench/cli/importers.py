"""`workbench import conll04`: public benchmarks into canonical records, with their own label config."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench.cli._common import clean_errors

app = typer.Typer(help="Import public datasets as canonical records.", no_args_is_help=True)


@app.command("conll04")
@clean_errors
def import_conll04(
    directory: Path = typer.Argument(Path("../shared/benchmarks/conll04"), help="Folder with train.json, dev.json, test.json"),
    output: Path = typer.Option(Path("training/benchmarks/conll04/data"), "--output", "-o", help="Folder for {train,dev,test}.jsonl"),
    labels: Path = typer.Option(Path("configs/benchmarks/conll04-labels.yml"), help="CoNLL04 label config"),
):
    """Convert CoNLL04 (SpERT's JSON) to canonical JSONL, one file per published split."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.benchmarks.conll04 import read_conll04, write_splits
    from workbench.labels import load_labels

    by_split = read_conll04(directory, load_labels(labels))
    for split, path in write_splits(by_split, output).items():
        records = by_split[split]
        typer.echo(
            f"{split}: {len(records)} documents, {sum(len(r.entities) for r in records)} entities, "
            f"{sum(len(r.relations) for r in records)} relations -> {path}"
        )
