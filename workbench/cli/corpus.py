"""`workbench corpus build|export`: raw articles to the canonical corpus, and back out as JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench import words
from workbench.cli._common import check_splits, clean_errors

app = typer.Typer(help="Build the canonical corpus from raw articles.", no_args_is_help=True)


@app.command("build")
@clean_errors
def build(
    sources: Optional[List[Path]] = typer.Argument(None, help=".txt/.jsonl files, folders or saved HF datasets (default: config)"),
    config: Path = typer.Option(Path("configs/corpus.yml"), help="Corpus config"),
    output: Optional[Path] = typer.Option(None, help="Where the corpus dataset goes (default: config)"),
    splits_file: Optional[Path] = typer.Option(None, help="Split lock file (default: config)"),
    threshold: Optional[float] = typer.Option(None, help="Near-duplicate TF-IDF cosine threshold"),
):
    """Read, deduplicate, group near-duplicates, split by document and store the corpus."""
    from workbench.corpus.build import build_corpus, load_corpus_config

    cfg = load_corpus_config(config)
    if sources:
        cfg.sources = [str(s) for s in sources]
    if output:
        cfg.output = str(output)
    if splits_file:
        cfg.splits_file = str(splits_file)
    if threshold is not None:
        cfg.near_duplicate_threshold = threshold
    result = build_corpus(cfg)
    counts = ", ".join(f"{k} {v}" for k, v in result.split_counts.items())
    typer.echo(f"corpus: {words.count(result.documents, 'document')} in {words.count(result.groups, 'group')} ({counts}) -> {cfg.output}")
    for dup in result.exact_duplicates:
        typer.echo(f"  dropped exact duplicate {dup.dropped} of {dup.kept} ({dup.source})")
    for a, b, score in result.near_duplicate_pairs:
        typer.echo(f"  near-duplicates {a} ~ {b} (cosine {score:.2f}) kept in one split")


@app.command("export")
@clean_errors
def export(
    output: Path = typer.Argument(..., help="JSONL file to write"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus dataset"),
    split: Optional[str] = typer.Option(None, help="Only this split"),
):
    """Export the corpus (or one split) as JSONL, one article per line."""
    from workbench.corpus.store import export_jsonl

    check_splits(split)
    count = export_jsonl(corpus, output, split)
    typer.echo(f"wrote {words.count(count, 'article')} to {output}")
