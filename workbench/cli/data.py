"""`workbench data`: gold annotations + corpus split -> spaCy DocBin files."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from workbench.cli._common import clean_errors


@clean_errors
def data(
    gold: List[Path] = typer.Argument(..., help="Gold annotation files (canonical JSONL)"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus with the document split"),
    output: Path = typer.Option(Path("training/corpus"), "--output", "-o", help="Folder for train/dev/test .spacy"),
):
    """Convert gold documents to train/dev/test DocBins by their corpus split."""
    from workbench.corpus.store import corpus_index
    from workbench.training.convert import convert_gold

    result = convert_gold(gold, corpus_index(corpus), output)
    for split, path in result.paths.items():
        typer.echo(
            f"{split}: {result.documents[split]} docs, {result.entities[split]} entities, "
            f"{result.relations[split]} relations -> {path}"
        )
