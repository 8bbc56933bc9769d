"""`workbench train ner|rel|all`: train pipelines from their configs in configs/."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.cli._common import clean_errors

app = typer.Typer(help="Train pipelines from the configs in configs/.", no_args_is_help=True)


TARGET_PRECISION = typer.Option(
    None, help="Per relation type, the lowest threshold whose dev precision reaches this (default: best dev F1)"
)
MIN_DEV_SUPPORT = typer.Option(
    20, help="Tune a relation type's threshold only if dev has at least this many gold relations of it"
)
TUNE = typer.Option(True, "--tune/--no-tune", help="Tune the relation thresholds on dev after training")
NER_CONFIG = typer.Option(Path("configs/ner.cfg"), help="NER training config")
REL_CONFIG = typer.Option(Path("configs/rel.cfg"), help="Relation training config")
DOCBINS = typer.Option(Path("training/corpus"), help="Folder with train.spacy and dev.spacy")


def _train_and_install(ctx: typer.Context | None, config: Path, data: Path, run_dir: Path, output: Path) -> Path:
    from spacy.cli._util import parse_config_overrides

    from workbench.training.train import install_model, train_from_config

    overrides = parse_config_overrides(ctx.args) if ctx is not None else {}
    best = train_from_config(config, run_dir, data / "train.spacy", data / "dev.spacy", overrides)
    return install_model(best, output)


def _tune(model: Path, data: Path, target_precision: float | None, min_dev_support: int) -> None:
    from workbench.training.tune import format_threshold_report, tune_model_thresholds

    report = tune_model_thresholds(model, data / "dev.spacy", target_precision, min_dev_support)
    typer.echo(format_threshold_report(report))


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
    typer.echo(f"trained pipeline: {output}")


@app.command("rel", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@clean_errors
def train_rel(
    ctx: typer.Context,
    config: Path = typer.Option(Path("configs/rel.cfg"), help="spaCy training config"),
    data: Path = typer.Option(Path("training/corpus"), help="Folder with train.spacy and dev.spacy"),
    run_dir: Path = typer.Option(Path("training/runs/rel"), help="Where spaCy writes model-best/model-last"),
    output: Path = typer.Option(Path("training/models/diplomatic-rel"), "--output", "-o", help="Final pipeline"),
    tune: bool = TUNE,
    target_precision: Optional[float] = TARGET_PRECISION,
    min_dev_support: int = MIN_DEV_SUPPORT,
):
    """Train the relation model on gold entities, install its best checkpoint, tune its thresholds on dev.

    Extra options are spaCy config overrides, as with `spacy train`: --training.max_steps 100
    """
    _train_and_install(ctx, config, data, run_dir, output)
    if tune:
        _tune(output, data, target_precision, min_dev_support)
    typer.echo(f"trained pipeline: {output}")


@app.command("all")
@clean_errors
def train_all(
    ner_config: Path = NER_CONFIG,
    rel_config: Path = REL_CONFIG,
    data: Path = DOCBINS,
    output: Path = typer.Option(Path("training/models/diplomatic"), "--output", "-o", help="The assembled NER -> REL pipeline"),
    tune: bool = TUNE,
    target_precision: Optional[float] = TARGET_PRECISION,
    min_dev_support: int = MIN_DEV_SUPPORT,
):
    """Train NER and REL, tune the relation thresholds on dev, then assemble one pipeline NER -> REL."""
    from workbench.training.train import assemble_pipeline

    parts = {}
    for name, config in (("ner", ner_config), ("rel", rel_config)):
        parts[name] = _train_and_install(None, config, data, Path("training/runs") / name, output.with_name(f"{output.name}-{name}"))
    if tune:
        _tune(parts["rel"], data, target_precision, min_dev_support)
    assemble_pipeline(parts["ner"], parts["rel"], output)
    typer.echo(f"trained pipeline (NER -> REL): {output}")
