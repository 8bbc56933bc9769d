"""`workbench benchmark conll04|active-learning|bootstrap-coverage`: measure the project's configs and methods, print the figures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import List, Optional

import typer

from workbench.cli._common import ENCODER_HELP, GPU_ID, TRANSFORMER, clean_errors
from workbench.errors import WorkbenchError

app = typer.Typer(help="Train and score the project's configs on public benchmarks.", no_args_is_help=True)


@app.command("conll04")
@clean_errors
def benchmark_conll04(
    config: Path = typer.Option(Path("configs/benchmarks/conll04.yml"), help="Benchmark config"),
    data: Optional[Path] = typer.Option(None, help="CoNLL04 folder (default: the config's)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Work and result folder (default: the config's)"),
    target_precision: Optional[float] = typer.Option(None, help="Tune relation thresholds for this dev precision instead of F1"),
    base_model: Optional[str] = typer.Option(None, help="Pipeline to start from (default: the config's, en_core_web_md); 'none' trains from scratch"),
    ner_config: Optional[Path] = typer.Option(None, help="NER training config (default: the benchmark config's, else the one `workbench train` picks)"),
    rel_config: Optional[Path] = typer.Option(
        None, help="Relation training config (default: as --ner-config); configs/rel-scratch.cfg for a base model without vectors"
    ),
    encoder: Optional[str] = typer.Option(None, help=f"{ENCODER_HELP} (default: the benchmark config's)"),
    joint_config: Optional[Path] = typer.Option(None, help="With --encoder transformer: the config training NER + REL (default: the benchmark config's, else configs/trf.cfg)"),
    transformer: Optional[str] = TRANSFORMER,
    gpu_id: int = GPU_ID,
):
    """Train NER + REL on train, tune thresholds on dev, score end to end on test; write benchmark.json."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.benchmarks.conll04 import read_conll04, write_splits
    from workbench.benchmarks.config import load_benchmark_config
    from workbench.benchmarks.run import format_summary, run_benchmark
    from workbench.labels import load_labels
    from workbench.training.pipeline import resolve_spec
    from workbench.training.tune import format_threshold_report

    settings = load_benchmark_config(config, "conll04")
    settings.data = data or settings.data
    settings.output = output or settings.output
    given = {
        "target_precision": target_precision, "base_model": base_model, "ner_config": ner_config, "rel_config": rel_config,
        "encoder": encoder, "transformer": transformer, "joint_config": joint_config,
    }
    settings.spec = replace(settings.spec, gpu_id=gpu_id, **{key: value for key, value in given.items() if value is not None})
    resolve_spec(settings.spec)
    scheme = load_labels(settings.labels)
    by_split = read_conll04(settings.data, scheme)
    write_splits(by_split, settings.output / "data")
    result = run_benchmark(settings, by_split)
    typer.echo(format_threshold_report(result["thresholds"]))
    typer.echo(format_summary(result))
    typer.echo(f"results: {settings.output / 'benchmark.json'}; report: {result['report']}")


@app.command("speed")
@clean_errors
def benchmark_speed(
    pipelines: List[str] = typer.Argument(
        ..., help="NAME=PATH of each trained pipeline, e.g. transformer=training/benchmarks/conll04-trf/models/pipeline"
    ),
    config: Path = typer.Option(Path("configs/benchmarks/conll04.yml"), help="Benchmark config (data and labels)"),
    data: Optional[Path] = typer.Option(None, help="CoNLL04 folder (default: the config's)"),
    split: str = typer.Option("test", help="The split whose texts are timed and whose gold scores each pipeline"),
    int8: bool = typer.Option(True, "--int8/--no-int8", help="Also time and score each transformer pipeline with torch's dynamic int8 quantization"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the rows to this JSON file"),
):
    """Words/s of trained pipelines, en_core_web_sm's NER alone and int8 copies, in one run, each with its F1 on the split."""
    from workbench.benchmarks.conll04 import read_conll04
    from workbench.benchmarks.config import load_benchmark_config
    from workbench.benchmarks.speed import format_speed, run_speed
    from workbench.cli._common import check_splits
    from workbench.errors import WorkbenchError
    from workbench.fileio import write_json
    from workbench.labels import load_labels

    check_splits(split)
    named = {}
    for item in pipelines:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise WorkbenchError(f"{item!r}: give each pipeline as NAME=PATH")
        if not Path(path).is_dir():
            raise WorkbenchError("no such pipeline folder", path=path)
        named[name] = Path(path)
    settings = load_benchmark_config(config, "conll04")
    scheme = load_labels(settings.labels)
    gold = read_conll04(data or settings.data, scheme)[split]
    rows = run_speed(named, gold, scheme, int8)
    typer.echo(format_speed(rows, len(gold)))
    if output is not None:
        write_json(output, {"split": split, "documents": len(gold), "rows": [row.to_dict() for row in rows]})
        typer.echo(f"results: {output}")


@app.command("active-learning", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@clean_errors
def benchmark_active_learning(
    ctx: typer.Context,
    config: Path = typer.Option(Path("configs/benchmarks/conll04.yml"), help="Benchmark config (data, labels, configs, base model)"),
    data: Optional[Path] = typer.Option(None, help="CoNLL04 folder (default: the config's)"),
    output: Path = typer.Option(Path("training/benchmarks/active-learning"), "--output", "-o", help="Folder for curve.json and curve.png"),
    start: int = typer.Option(50, help="Random sentences to start from"),
    step: int = typer.Option(50, help="Sentences added per round"),
    rounds: int = typer.Option(8, help="Rounds"),
    seeds: str = typer.Option("0,1,2", help="Seeds, comma-separated: each one a different random start and random order"),
    strategies: str = typer.Option("random,uncertainty,diversity", help="Strategies, comma-separated"),
    beam_width: int = typer.Option(8, help="NER beam width for the entity margins"),
    base_model: Optional[str] = typer.Option(None, help="Pipeline to start from (default: the config's); 'none' trains from scratch"),
):
    """Simulate annotation rounds on CoNLL04 train: F1 against sentences annotated, per strategy; curve.json, curve.png.

    Every round trains NER + REL with short settings (--training.max_steps 300 etc.); extra
    options are spaCy config overrides for both models on top of them. A long command: at
    the defaults it trains 1 + 3 x (1 + 3 x 8) = 76 models.
    """
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.benchmarks.active_learning import SHORT_SETTINGS, StudySettings, format_study, run_study
    from workbench.benchmarks.conll04 import read_conll04
    from workbench.benchmarks.config import load_benchmark_config
    from workbench.labels import load_labels
    from workbench.training.overrides import parse_overrides, route_overrides

    settings = load_benchmark_config(config, "conll04")
    spec = settings.spec if base_model is None else replace(settings.spec, base_model=base_model)
    routed = route_overrides(parse_overrides(ctx.args), {"ner": spec.config("ner"), "rel": spec.config("rel")})
    spec = replace(
        spec,
        ner_overrides={**spec.ner_overrides, **SHORT_SETTINGS, **routed["ner"]},
        rel_overrides={**spec.rel_overrides, **SHORT_SETTINGS, **routed["rel"]},
    )
    try:
        study = StudySettings(
            start=start, step=step, rounds=rounds, beam_width=beam_width,
            seeds=tuple(int(s) for s in seeds.split(",") if s.strip()),
            strategies=tuple(s.strip() for s in strategies.split(",") if s.strip()),
        )
    except ValueError:
        raise WorkbenchError(f"--seeds must be integers separated by commas, got {seeds!r}") from None
    scheme = load_labels(settings.labels)
    by_split = read_conll04(data or settings.data, scheme)
    result = run_study(spec, by_split["train"], by_split["dev"], study, output)
    typer.echo(format_study(result))
    typer.echo(f"curve: {output / 'curve.json'}, {output / 'curve.png'}")


@app.command("bootstrap-coverage")
@clean_errors
def benchmark_bootstrap_coverage(
    documents: str = typer.Option("2,3,4,5,6,8,10,15,20,30", help="Numbers of documents to simulate, comma-separated"),
    trials: int = typer.Option(2000, min=1, help="Simulated evaluations per number of documents"),
    samples: int = typer.Option(1000, min=1, help="Bootstrap resamples per interval (evaluate's default)"),
    precision: float = typer.Option(0.85, help="The population's true micro precision"),
    spread: float = typer.Option(0.08, help="Standard deviation of the documents' own precisions"),
    entities: int = typer.Option(60, min=0, help="Mean predicted entities per document (1 + Poisson)"),
    seed: int = typer.Option(0, help="Seed of the simulation"),
):
    """How often evaluate's 95% interval holds the true precision, by number of documents (why it gives none below 10).

    'straddled' is the share of simulated sets whose documents' own precisions lie on both sides
    of the true one: no interval over those documents can hold it more often.
    """
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.benchmarks.bootstrap_coverage import CoverageSettings, bootstrap_coverage, format_coverage

    try:
        sizes = tuple(int(n) for n in documents.split(",") if n.strip())
    except ValueError:
        raise WorkbenchError(f"--documents must be integers separated by commas, got {documents!r}") from None
    if not sizes or min(sizes) < 2:
        raise WorkbenchError(f"--documents must be 2 or more each, got {documents!r}")
    if not 0 < precision < 1 or spread <= 0:
        raise WorkbenchError(f"--precision must lie between 0 and 1 and --spread be above 0, got {precision} and {spread}")
    settings = CoverageSettings(sizes, trials, samples, 0.95, precision, spread, entities, seed)
    try:
        rows = bootstrap_coverage(settings)
    except ValueError as exc:
        raise WorkbenchError(str(exc)) from None
    typer.echo(format_coverage(rows, settings))
