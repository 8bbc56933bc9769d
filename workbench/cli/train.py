"""`workbench train ner`: train a pipeline from its config in configs/."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench.cli._common import clean_errors

app = typer.Typer(help="Train pipelines from the configs in configs/.", no_args_is_help=True)


@app.command("ner", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@clean_errors
def train_ner(
    ctx: typer.Context,
    config: Path = typer.Option(Path("configs/ner.cfg"), help="spaCy training config"),
    data: Path = typer.Option(Path("training/corpus"), help="Folder with train.spacy and dev.spacy"),
    run_dir: Path = typer.Option(Path("training/runs/ner"), help="Where spaCy writes model-best/model-last"),
    output: Path = typer.Option(Path("training/models/diplomatic"), "--output", "-o", help="Final pipeline"),
):
    """Train the NER model and install its best checkpoint as the pipeline.

    Extra options are spaCy config overrides, as with `spacy train`: --training.max_steps 100
    """
    from spacy.cli._util import parse_config_overrides

    from workbench.training.train import install_model, train_from_config

    best = train_from_config(config, run_dir, data / "train.spacy", data / "dev.spacy", parse_config_overrides(ctx.args))
    install_model(best, output)
    typer.echo(f"trained pipeline: {output}")
