"""`workbench train-curve`: retrain on 25/50/75/100% of the training documents and plot the scores."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench.cli._common import ENCODER, GPU_ID, TRANSFORMER, check_splits, clean_errors, encoder_options
from workbench.cli.train import BASE_MODEL, DOCBINS, LABELS, NER_CONFIG, REL_CONFIG, spec_from_options
from workbench.metrics import score


@clean_errors
def train_curve(
    ctx: typer.Context,
    base_model: str = BASE_MODEL,
    ner_config: Optional[Path] = NER_CONFIG,
    rel_config: Optional[Path] = REL_CONFIG,
    data: Path = DOCBINS,
    labels: Path = LABELS,
    split: str = typer.Option("dev", help="Score each point on this split's DocBin"),
    output: Path = typer.Option(Path("training/curve"), "--output", "-o", help="Folder for curve.json and curve.png"),
    fraction: Optional[List[float]] = typer.Option(None, help="Fraction of the training documents (repeat; default 0.25 0.5 0.75 1)"),
    seed: int = typer.Option(0, help="Seed of the subset order and the bootstrap"),
    bootstrap: int = typer.Option(1000, help="Bootstrap resamples for the intervals (0: none)"),
    encoder: str = ENCODER,
    transformer: Optional[str] = TRANSFORMER,
    gpu_id: int = GPU_ID,
):
    """Train NER and REL per subset, score on --split, write curve.json and curve.png.

    Extra options are spaCy config overrides for both models, e.g. --training.max_steps 100.
    A long command at the configs' settings: it trains both models once per subset size.
    """
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.experiments.curve import FRACTIONS, run_learning_curve

    check_splits(split)
    options = {
        "labels": labels, "base_model": base_model, "ner_config": ner_config, "rel_config": rel_config,
        **encoder_options(encoder, transformer, gpu_id),
    }
    spec = spec_from_options(ctx, ("ner", "rel"), options)
    result = run_learning_curve(data, output, spec, split, seed, tuple(fraction or FRACTIONS), bootstrap)
    typer.echo(f"learning curve on {result['documents']} {split} documents (of {result['train_documents']} training documents):")
    for point in result["points"]:
        line = f"  {point['train_documents']:>4} docs  NER P {score(point['ner']['precision'])} F1 {score(point['ner']['f1'])}"
        if "rel" in point:
            line += f"  REL P {score(point['rel']['precision'])} F1 {score(point['rel']['f1'])} (end to end)"
        typer.echo(line)
    for note in result["notes"]:
        typer.echo(f"note: {note}")
    typer.echo(f"curve: {output / 'curve.json'}, {output / 'curve.png'}")
