"""`workbench annotations validate`: check annotation files before anything trusts them."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from workbench.cli._common import clean_errors

app = typer.Typer(help="Validate and manage annotations.", no_args_is_help=True)


@app.command("validate")
@clean_errors
def validate(
    paths: List[Path] = typer.Argument(..., help="Canonical JSONL annotation files"),
    labels: Path = typer.Option(Path("configs/labels.yml"), help="Label config"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus to check texts against (skipped if absent)"),
    no_corpus: bool = typer.Option(False, "--no-corpus", help="Do not compare texts with the corpus"),
):
    """Report every problem with file, line, document and offsets; exit 1 if there is any."""
    from workbench.annotations.validate import validate_files
    from workbench.corpus.store import corpus_index
    from workbench.labels import load_labels

    scheme = load_labels(labels)
    index = None
    if not no_corpus and (corpus / "dataset_info.json").exists():
        index = corpus_index(corpus)
    problems, count = validate_files(paths, scheme, index)
    for problem in problems:
        typer.echo(str(problem), err=True)
    checked = "checked against the corpus" if index is not None else "corpus not checked"
    if problems:
        typer.secho(f"{len(problems)} problems in {count} documents ({checked})", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {count} documents, no problems ({checked})")
