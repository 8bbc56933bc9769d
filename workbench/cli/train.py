"""`workbench train ner|rel|all`: train pipelines from their configs in configs/, from a base model by default."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional

import typer

from workbench.cli._common import ENCODER, GPU_ID, TRANSFORMER, clean_errors, encoder_options

HELP = (
    "Train pipelines from the configs in configs/ (from a base model by default).\n\n"
    "The options belong to each command: `workbench train all --help` (or `ner --help`, `rel --help`) lists them, "
    "e.g. --base-model, --select-on-train, --target-precision, and spaCy overrides such as --training.max_steps 200."
)
app = typer.Typer(help=HELP, no_args_is_help=True)

EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}
BASE_MODEL = typer.Option(
    "en_core_web_md", help="Pipeline to start from: a name (en_core_web_md), package, module or folder; 'none' trains from scratch"
)
TARGET_PRECISION = typer.Option(
    None, help="Per relation type, the lowest threshold whose dev precision reaches this (default: the highest cut within one standard error of the best dev F1)"
)
MIN_DEV_SUPPORT = typer.Option(
    20, help="Tune a relation type's threshold only if dev has at least this many gold relations of it"
)
TUNE = typer.Option(True, "--tune/--no-tune", help="Tune the relation thresholds on dev after training")
NER_CONFIG = typer.Option(None, help="NER training config (default: configs/ner.cfg, or ner-scratch.cfg with --base-model none)")
REL_CONFIG = typer.Option(None, help="Relation training config (default: configs/rel.cfg, or rel-scratch.cfg with --base-model none)")
LABELS = typer.Option(Path("configs/labels.yml"), help="Label config")
DOCBINS = typer.Option(Path("training/corpus"), help="Folder with train.spacy and dev.spacy")
RUN_DIR = typer.Option(None, help="Where spaCy writes its checkpoints (default: a new training/runs/<time> folder per run)")
SELECT_ON_TRAIN = typer.Option(
    False, "--select-on-train", help="With no dev documents: choose checkpoints on the training documents and keep the thresholds"
)


def new_run_dir() -> Path:
    """A fresh folder per run, so a run never overwrites an earlier one."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    run_dir, n = Path("training/runs") / stamp, 1
    while run_dir.exists():
        n += 1
        run_dir = Path("training/runs") / f"{stamp}-{n}"
    return run_dir


def spec_from_options(ctx: typer.Context, parts: tuple[str, ...], spec_options: dict):
    """The PipelineSpec of a command's options, with its extra --section.key options routed to the configs that have them.

    The encoder, base model or transformer and device are resolved here, so a wrong one is an
    error before anything trains.
    """
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.training.overrides import parse_overrides, route_overrides
    from workbench.training.pipeline import JOINT, PipelineSpec, resolve_spec

    spec = PipelineSpec(**spec_options)
    routed = route_overrides(parse_overrides(ctx.args), {part: spec.config(part) for part in spec.training_parts(parts)})
    spec = replace(spec, ner_overrides=routed.get("ner", {}), rel_overrides=routed.get("rel", {}), joint_overrides=routed.get(JOINT, {}))
    resolve_spec(spec)
    return spec


def run_training(
    ctx: typer.Context,
    parts: tuple[str, ...],
    spec_options: dict,
    data: Path,
    run_dir: Optional[Path],
    output: Path,
    select_on_train: bool,
) -> None:
    """Shared by the three commands: check the data, train, say what was installed and where the runs are."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.training.pipeline import resolve_spec, train_pipeline, training_data
    from workbench.training.tune import format_threshold_report

    spec = spec_from_options(ctx, parts, spec_options)
    resolved = resolve_spec(spec)
    checked = training_data(data, select_on_train)
    if checked.selects_on_train:
        spec = replace(spec, tune=False)
    for note in checked.notes:
        typer.secho(f"warning: {note}", fg=typer.colors.YELLOW, err=True)
    run_dir = run_dir or new_run_dir()
    typer.echo(f"runs: {run_dir}/{{{','.join(spec.training_parts(parts))}}}")
    typer.echo(f"{resolved.describe()} ({resolved.device})")
    try:
        result = train_pipeline(spec, checked.train, checked.dev, run_dir, output, parts)
    except KeyboardInterrupt:
        typer.secho(
            f"interrupted: the installed model at {output} is untouched; {run_dir} holds a partial run (safe to delete)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(130) from None
    if result.thresholds is not None:
        typer.echo(format_threshold_report(result.thresholds))
    for name, part in result.parts.items():
        typer.echo(f"{name}: installed {part.best} ({describe_best(part.best)}), trained in {part.seconds:.0f} s")
    typer.echo(f"trained pipeline: {output}")


def describe_best(model_dir: Path) -> str:
    """The dev score that made this checkpoint the best one, from spaCy's meta.json."""
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    score = meta.get("performance", {})
    headline = {k: v for k, v in score.items() if k in ("ents_f", "rel_micro_f") and v is not None}
    return ", ".join(f"best dev {k} {v:.3f}" for k, v in headline.items()) or "best checkpoint"


@app.command("ner", context_settings=EXTRA_ARGS)
@clean_errors
def train_ner(
    ctx: typer.Context,
    base_model: str = BASE_MODEL,
    config: Optional[Path] = NER_CONFIG,
    labels: Path = LABELS,
    data: Path = DOCBINS,
    run_dir: Optional[Path] = RUN_DIR,
    output: Path = typer.Option(Path("training/models/diplomatic-ner"), "--output", "-o", help="Final pipeline"),
    select_on_train: bool = SELECT_ON_TRAIN,
    encoder: str = ENCODER,
    transformer: Optional[str] = TRANSFORMER,
    gpu_id: int = GPU_ID,
):
    """Train the NER model and install its best checkpoint as the pipeline.

    Extra options are spaCy config overrides, as with `spacy train`: --training.max_steps 100
    """
    options = {"base_model": base_model, "ner_config": config, "labels": labels, **encoder_options(encoder, transformer, gpu_id)}
    run_training(ctx, ("ner",), options, data, run_dir, output, select_on_train)


@app.command("rel", context_settings=EXTRA_ARGS)
@clean_errors
def train_rel(
    ctx: typer.Context,
    base_model: str = BASE_MODEL,
    config: Optional[Path] = REL_CONFIG,
    labels: Path = LABELS,
    data: Path = DOCBINS,
    run_dir: Optional[Path] = RUN_DIR,
    output: Path = typer.Option(Path("training/models/diplomatic-rel"), "--output", "-o", help="Final pipeline"),
    tune: bool = TUNE,
    target_precision: Optional[float] = TARGET_PRECISION,
    min_dev_support: int = MIN_DEV_SUPPORT,
    select_on_train: bool = SELECT_ON_TRAIN,
    encoder: str = ENCODER,
    transformer: Optional[str] = TRANSFORMER,
    gpu_id: int = GPU_ID,
):
    """Train the relation model on gold entities, install its best checkpoint, tune its thresholds on dev.

    Extra options are spaCy config overrides, as with `spacy train`: --training.max_steps 100
    """
    options = {
        "base_model": base_model, "rel_config": config, "labels": labels, "tune": tune,
        "target_precision": target_precision, "min_dev_support": min_dev_support,
        **encoder_options(encoder, transformer, gpu_id),
    }
    run_training(ctx, ("rel",), options, data, run_dir, output, select_on_train)


@app.command("all", context_settings=EXTRA_ARGS)
@clean_errors
def train_all(
    ctx: typer.Context,
    base_model: str = BASE_MODEL,
    ner_config: Optional[Path] = NER_CONFIG,
    rel_config: Optional[Path] = REL_CONFIG,
    labels: Path = LABELS,
    data: Path = DOCBINS,
    run_dir: Optional[Path] = RUN_DIR,
    output: Path = typer.Option(Path("training/models/diplomatic"), "--output", "-o", help="The assembled NER -> REL pipeline"),
    tune: bool = TUNE,
    target_precision: Optional[float] = TARGET_PRECISION,
    min_dev_support: int = MIN_DEV_SUPPORT,
    select_on_train: bool = SELECT_ON_TRAIN,
    encoder: str = ENCODER,
    transformer: Optional[str] = TRANSFORMER,
    gpu_id: int = GPU_ID,
):
    """Train NER and REL, tune the relation thresholds on dev, then assemble one pipeline NER -> REL.

    Extra options are spaCy config overrides, applied to each config that has the setting:
    --training.max_steps 100
    """
    options = {
        "base_model": base_model, "ner_config": ner_config, "rel_config": rel_config, "labels": labels, "tune": tune,
        "target_precision": target_precision, "min_dev_support": min_dev_support,
        **encoder_options(encoder, transformer, gpu_id),
    }
    run_training(ctx, ("ner", "rel"), options, data, run_dir, output, select_on_train)


@app.command("final")
@clean_errors
def train_final(
    gold: List[Path] = typer.Argument(..., help="Gold annotation files: every document is trained on"),
    crossval: Path = typer.Option(Path("reports/crossval"), help="The `workbench crossval` report that measured this recipe"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus the gold documents belong to"),
    ner_config: Optional[Path] = NER_CONFIG,
    rel_config: Optional[Path] = REL_CONFIG,
    labels: Path = LABELS,
    run_dir: Optional[Path] = RUN_DIR,
    output: Path = typer.Option(Path("training/models/diplomatic"), "--output", "-o", help="The final NER -> REL pipeline"),
):
    """Train NER -> REL on every gold document with the steps and thresholds cross-validation chose; write its model card.

    The model has no held-out score of its own: its card (meta.json and README.md) carries the
    cross-validated estimate. The crossval report must have been made with the same gold,
    configs and label config; its base model and overrides are used.
    """
    from workbench.training.final import train_final as train_final_model
    from workbench.training.pipeline import PipelineSpec

    spec = PipelineSpec(labels=labels, ner_config=ner_config, rel_config=rel_config)
    run_dir = run_dir or new_run_dir()
    typer.echo(f"runs: {run_dir}")
    try:
        final = train_final_model(gold, corpus, crossval, spec, output, run_dir)
    except KeyboardInterrupt:
        typer.secho(f"interrupted: the installed model at {output} is untouched; {run_dir} holds a partial run (safe to delete)", fg=typer.colors.RED, err=True)
        raise typer.Exit(130) from None
    for part, steps in final.card["steps"].items():
        typer.echo(f"{part}: {steps['steps']} steps ({steps['rule']}: {', '.join(map(str, steps['folds']))})")
    for label, row in final.card["thresholds"].items():
        typer.echo(f"  {label} threshold {row['threshold']:.3f}: {row['note']}")
    typer.echo(f"final model: {output}, trained on {final.documents} gold documents; card: {output / 'README.md'}")
    typer.echo(f"no held-out score of its own; the cross-validated estimate ({crossval}, pooled out of fold):")
    for task, title in (("ner", "NER"), ("rel_at_thresholds", "REL end to end at its thresholds (nested)"), ("rel", "REL end to end as the folds ran")):
        if task in final.card["estimate"]:
            typer.echo(f"  {title}: {format_estimate(final.card['estimate'][task]['micro'])}")


def format_estimate(micro: dict) -> str:
    """P, R and F1 with their intervals where the card has them."""
    def one(name: str, figure: dict) -> str:
        if figure["value"] is None:
            return f"{name} –"
        ci = figure["ci"]
        return f"{name} {figure['value']:.3f}" + (f" ({ci['lo']:.3f}-{ci['hi']:.3f})" if ci else "")

    return ", ".join(one(name, micro[key]) for name, key in (("P", "precision"), ("R", "recall"), ("F1", "f1")))
