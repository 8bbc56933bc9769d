"""`workbench patterns`: derive the span ruler's patterns from gold and write them as a pattern file (JSONL)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import List, Optional

import typer

from workbench.cli._common import check_splits, clean_errors
from workbench.words import count


@clean_errors
def patterns(
    gold: List[Path] = typer.Argument(..., help="Gold: canonical JSONL files and/or snapshot folders"),
    output: Path = typer.Option(..., "--output", "-o", help="Pattern file to write (JSONL, spaCy's span ruler format)"),
    split: Optional[List[str]] = typer.Option(None, help="Only gold documents of this corpus split (repeat for several)"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus with the document split (for --split)"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help="Label config: which labels get patterns, and its own"),
):
    """Phrase and token patterns per label, each with how often it was right in this gold; what `train` derives itself.

    Only labels whose `patterns` in the label config ask for them get patterns; a derived
    pattern is kept if it was right at least that label's min_precision of the time.
    """
    from workbench.corpus.store import Corpus
    from workbench.labels import load_labels
    from workbench.training.patterns import patterns_from_gold, write_patterns

    check_splits(split)
    derived = patterns_from_gold(gold, load_labels(labels), split, Corpus.open(corpus) if split else Corpus.open_if_built(corpus))
    write_patterns(output, derived)
    for label, n in Counter(pattern.label for pattern in derived).items():
        typer.echo(f"{label}: {count(n, 'pattern')}")
    if not derived:
        typer.echo("no patterns: no label in the label config asks for them (`patterns` under an entity label)")
    typer.echo(f"patterns: {output}")
