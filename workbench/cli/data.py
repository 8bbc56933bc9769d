"""`workbench data`: gold annotations + corpus split -> spaCy DocBin files and their manifest."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from workbench.cli._common import clean_errors
from workbench.words import count


@clean_errors
def data(
    gold: List[Path] = typer.Argument(..., help="Gold: canonical JSONL files and/or snapshot folders, each document once"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus with the document split"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help="Label config the gold is checked against"),
    output: Path = typer.Option(Path("training/corpus"), "--output", "-o", help="Folder for train/dev/test .spacy and manifest.json"),
):
    """Check the gold against the label scheme, then convert it to train/dev/test DocBins by corpus split."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.corpus.store import Corpus
    from workbench.labels import load_labels
    from workbench.training.convert import convert_gold

    result = convert_gold(gold, Corpus.open(corpus), output, load_labels(labels), labels)
    for split, path in result.paths.items():
        typer.echo(
            f"{split}: {count(result.documents[split], 'document')}, {count(result.entities[split], 'entity', 'entities')}, "
            f"{count(result.relations[split], 'relation')} -> {path}"
        )
    for split in result.empty_splits:
        typer.secho(
            f"warning: the {split} split has no gold documents ({result.paths[split]} is empty); "
            "annotate and adjudicate documents of that split before training",
            fg=typer.colors.YELLOW, err=True,
        )
    if result.unresolved:
        typer.secho(
            f"warning: {count(len(result.unresolved), 'document')} with unresolved adjudication conflicts "
            f"({', '.join(result.unresolved)}): their gold is the vote's result; resolve them with "
            "`workbench annotations adjudicate --review`",
            fg=typer.colors.YELLOW, err=True,
        )
    else:
        typer.echo("unresolved adjudication conflicts: none")
    typer.echo(f"manifest: {result.manifest}")
