"""The `workbench` command line: one module per command, thin over the library.

`workbench --help` imports every command module, so these import only typer and the small
modules at the top (errors, words, records, fileio, metrics, corpus.split, annotation_files);
each command imports the library it calls inside itself, because the library loads spaCy (and
datasets, scikit-learn, Doccano's client) and `--help` or a mistyped option should not wait
for them. Those are the only imports inside functions in the command line, and each says so.
"""

import typer
from typer.core import TyperGroup

from workbench.cli import annotations, benchmark, corpus, doccano, importers, train
from workbench.cli.compare import compare
from workbench.cli.crossval import crossval
from workbench.cli.data import data
from workbench.cli.evaluate import evaluate
from workbench.cli.patterns import patterns
from workbench.cli.predict import predict, predict_bench
from workbench.cli.train_curve import train_curve

# `workbench --help` lists the commands in the order of the workflow, not alphabetically.
WORKFLOW = ("corpus", "doccano", "annotations", "data", "patterns", "train", "train-curve", "evaluate", "crossval", "compare", "predict", "predict-bench", "import", "benchmark")


class WorkflowOrder(TyperGroup):
    def list_commands(self, ctx):
        names = super().list_commands(ctx)
        return sorted(names, key=lambda name: WORKFLOW.index(name) if name in WORKFLOW else len(WORKFLOW))


app = typer.Typer(
    cls=WorkflowOrder, help="Annotation and model-training workbench for news text.", no_args_is_help=True, add_completion=False
)
app.add_typer(corpus.app, name="corpus")
app.add_typer(annotations.app, name="annotations")
app.add_typer(train.app, name="train")
app.add_typer(doccano.app, name="doccano")
app.add_typer(importers.app, name="import")
app.add_typer(benchmark.app, name="benchmark")
app.command("data")(data)
app.command("patterns")(patterns)
app.command("predict")(predict)
app.command("predict-bench")(predict_bench)
app.command("evaluate")(evaluate)
app.command("compare")(compare)
app.command("crossval", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(crossval)
app.command("train-curve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(train_curve)
