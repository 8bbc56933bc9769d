"""`workbench crossval`: k-fold cross-validation by document groups, pooled into one evaluation report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.cli._common import ENCODER, GPU_ID, TRANSFORMER, clean_errors, encoder_options
from workbench.cli.evaluate import print_summary
from workbench.cli.train import BASE_MODEL, LABELS, MIN_DEV_SUPPORT, NER_CONFIG, REL_CONFIG, TARGET_PRECISION, TUNE, spec_from_options
from workbench.errors import WorkbenchError
from workbench.metrics import BootstrapSettings


@clean_errors
def crossval(
    ctx: typer.Context,
    gold: Path = typer.Argument(..., help="Gold: a canonical JSONL file or a snapshot folder, each document once"),
    folds: Optional[int] = typer.Option(None, help="Number of folds (default: one per document group up to 10 groups, else 5)"),
    seed: int = typer.Option(0, help="Seed of the fold assignment and of the bootstrap"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus that knows each document's group"),
    base_model: str = BASE_MODEL,
    ner_config: Optional[Path] = NER_CONFIG,
    rel_config: Optional[Path] = REL_CONFIG,
    labels: Path = LABELS,
    tune: bool = TUNE,
    target_precision: Optional[float] = TARGET_PRECISION,
    min_dev_support: int = MIN_DEV_SUPPORT,
    select_on_train: bool = typer.Option(
        False, "--select-on-train",
        help="No inner dev fold: train on all other folds, choose checkpoints on the training documents, keep the config's thresholds",
    ),
    bootstrap: int = typer.Option(1000, help="Bootstrap resamples of the documents for the intervals (0: none)"),
    baselines: bool = typer.Option(True, "--baselines/--no-baselines", help="Score the baselines beside the model, per fold"),
    html: bool = typer.Option(True, "--html/--no-html", help="Also write report.html"),
    output: Path = typer.Option(Path("reports/crossval"), "--output", "-o", help="Report folder"),
    encoder: str = ENCODER,
    transformer: Optional[str] = TRANSFORMER,
    gpu_id: int = GPU_ID,
):
    """Train NER -> REL once per fold on the other folds, pool the held-out predictions, write one report.

    Extra options are spaCy config overrides for both models, e.g. --training.max_steps 100.
    A long command at the configs' settings: it trains both models once per fold.
    """
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.experiments.crossval import CrossvalSettings, run_crossval
    from workbench.experiments.pooled_thresholds import format_pooled_thresholds

    if bootstrap < 0:
        raise WorkbenchError(f"--bootstrap must be 0 or more, got {bootstrap}")
    options = {
        "base_model": base_model, "ner_config": ner_config, "rel_config": rel_config, "labels": labels, "tune": tune,
        "target_precision": target_precision, "min_dev_support": min_dev_support,
        **encoder_options(encoder, transformer, gpu_id),
    }
    spec = spec_from_options(ctx, ("ner", "rel"), options)
    settings = CrossvalSettings(folds, seed, select_on_train, BootstrapSettings(bootstrap, seed), baselines, html)
    try:
        result = run_crossval([gold], corpus, output, spec, settings)
    except KeyboardInterrupt:
        typer.secho(f"interrupted: the report at {output} is untouched and the partial run is removed", fg=typer.colors.RED, err=True)
        raise typer.Exit(130) from None
    metrics = result.metrics
    for fold in metrics["folds"]:
        typer.echo(f"fold {fold['fold']}: held out {', '.join(fold['held_out'])}; trained on {len(fold['train'])}, inner dev {len(fold['dev'])}")
    if "pooled_thresholds" in metrics["crossval"]:
        typer.echo(format_pooled_thresholds(metrics["crossval"]["pooled_thresholds"]))
    print_summary(metrics, result.paths, f"pooled over {metrics['documents']} documents in {metrics['crossval']['folds']} folds")
