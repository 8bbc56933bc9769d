"""`workbench train ner|rel|all`: train pipelines from their configs in configs/."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench.cli._common import clean_errors

app = typer.Typer(help="Train pipelines from the configs in configs/.", no_args_is_help=True)


def _train_and_install(ctx: typer.Context, config: Path, data: Path, run_dir: Path, output: Path) -> None:
    from spacy.cli._util import parse_config_overrides

    from workbench.training.train import install_model, train_from_config

    best = train_from_config(config, run_dir, data / "train.spacy", data / "dev.spacy", parse_config_overrides(ctx.args))
    install_model(best, output)
    typer.echo(f"trained pipeline: {output}")


@app.command("ner", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@clean_errors
def train_ner(
    ctx: typer.Context,
    config: Path = typer.Option(Path("configs/ner.cfg"), help="spaCy training config"),
    data: Path = typer.Option(Path("training/corpus"), help="Folder with train.spacy and dev.spacy"),
    run_dir: Path = typer.Option(Path("training/runs/ner"), help="Where spaCy writes model-best/model-last"),
    output: Path = typer.Option(Path("training/models/diplomatic-ner"), "--output", "-o", help="Final pipeline"),
):
    """Train the NER model and install its best checkpoint as the pipeline.

    Extra options are spaCy config overrides, as with `spacy train`: --training.max_steps 100
    """
    _train_and_install(ctx, config, data, run_dir, output)


@app.command("rel", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@clean_errors
def train_rel(
    ctx: typer.Context,
    config: Path = typer.Option(Path("configs/rel.cfg"), help="spaCy training config"),
    data: Path = typer.Option(Path("training/corpus"), help="Folder with train.spacy and dev.spacy"),
    run_dir: Path = typer.Option(Path("training/runs/rel"), help="Where spaCy writes model-best/model-last"),
    output: Path = typer.Option(Path("training/models/diplomatic-rel"), "--output", "-o", help="Final pipeline"),
):
    """Train the relation model on gold entities and install its best checkpoint.

    Extra options are spaCy config overrides, as with `spacy train`: --training.max_steps 100
    """
    _train_and_install(ctx, config, data, run_dir, output)


@app.command("all")
@clean_errors
def train_all(
    ner_config: Path = typer.Option(Path("configs/ner.cfg"), help="NER training config"),
    rel_config: Path = typer.Option(Path("configs/rel.cfg"), help="Relation training config"),
    data: Path = typer.Option(Path("training/corpus"), help="Folder with train.spacy and dev.spacy"),
    output: Path = typer.Option(Path("training/models/diplomatic"), "--output", "-o", help="The assembled NER -> REL pipeline"),
):
    """Train NER and REL, then assemble one pipeline that predicts relations on predicted entities."""
    from workbench.training.train import assemble_pipeline, install_model, train_from_config

    parts = {}
    for name, config in (("ner", ner_config), ("rel", rel_config)):
        best = train_from_config(config, Path("training/runs") / name, data / "train.spacy", data / "dev.spacy")
        parts[name] = install_model(best, output.with_name(f"{output.name}-{name}"))
    assemble_pipeline(parts["ner"], parts["rel"], output)
    typer.echo(f"trained pipeline (NER -> REL): {output}")
