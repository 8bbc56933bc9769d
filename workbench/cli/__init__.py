"""The `workbench` command line: one module per command, thin over the library."""

import typer

from workbench.cli import annotations, benchmark, corpus, doccano, importers, train
from workbench.cli.compare import compare
from workbench.cli.data import data
from workbench.cli.evaluate import evaluate
from workbench.cli.predict import predict, predict_bench
from workbench.cli.train_curve import train_curve

app = typer.Typer(help="Annotation and model-training workbench for news text.", no_args_is_help=True, add_completion=False)
app.add_typer(corpus.app, name="corpus")
app.add_typer(annotations.app, name="annotations")
app.add_typer(train.app, name="train")
app.add_typer(doccano.app, name="doccano")
app.add_typer(importers.app, name="import")
app.add_typer(benchmark.app, name="benchmark")
app.command("data")(data)
app.command("predict")(predict)
app.command("predict-bench")(predict_bench)
app.command("evaluate")(evaluate)
app.command("compare")(compare)
app.command("train-curve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(train_curve)
