"""`workbench predict`: annotate articles with a trained pipeline, as canonical records, on a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from workbench import words
from workbench.cli._common import GPU_ID, clean_errors
from workbench.errors import WorkbenchError
from workbench.fileio import remove_dir
from workbench.records import write_records

CLUSTER_HELP = "'local' (a Dask LocalCluster on this machine) or the address of a Dask scheduler, e.g. tcp://10.0.0.5:8786"


@clean_errors
def predict(
    model: Path = typer.Argument(..., help="Trained pipeline"),
    source: Path = typer.Argument(..., help="Articles: .txt/.jsonl/folder/HF dataset, or a corpus built by `corpus build`"),
    output: Path = typer.Option(..., "--output", "-o", help="OUT.jsonl: one file of predicted records; any other name: a folder of shard files"),
    cluster: str = typer.Option("local", help=CLUSTER_HELP),
    workers: int = typer.Option(1, min=1, help="Worker processes of the local cluster"),
    shard_size: int = typer.Option(200, min=1, help="Articles per shard (one task, one output file)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Predict anew over the shards another run left in the output's folder"),
    allow_empty: bool = typer.Option(False, "--allow-empty", help="An input without articles writes an empty output and succeeds"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Dask's own log on the terminal (else in the shard folder's dask.log)"),
    gpu_id: int = GPU_ID,
):
    """Write one predicted record (entities and relations) per article; a rerun after a crash redoes only missing shards.

    The input and the model are checked before any worker starts.
    """
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.predict import read_articles
    from workbench.predict_cluster import predict_to_shards, read_shards, shards_folder
    from workbench.training.encoders import use_device

    use_device(gpu_id)  # here too, so a machine without that GPU is told before any worker starts

    folder = shards_folder(output)
    one_file = folder != output
    stream = read_articles(source)
    if not stream.total:
        if not allow_empty:
            raise WorkbenchError("holds no articles, so nothing was predicted; --allow-empty accepts that and writes an empty output", path=source)
        if one_file:
            write_records(output, [])
        else:
            folder.mkdir(parents=True, exist_ok=True)
        typer.secho(f"warning: {source} holds no articles; wrote an empty output", fg=typer.colors.YELLOW, err=True)
        return
    run = predict_to_shards(
        model, stream.articles, folder, source=str(source.resolve()), total=stream.total,
        cluster=cluster, workers=workers, shard_size=shard_size, overwrite=overwrite, verbose=verbose, gpu_id=gpu_id,
    )
    kept = f", {run.reused} kept from an earlier run" if run.reused else ""
    typer.echo(
        f"predicted {words.count(run.documents, 'document')} in {words.count(run.shards, 'shard')}{kept} "
        f"({run.workers} workers, {run.words_per_second:.0f} words/s)"
    )
    if one_file:
        count = write_records(output, read_shards(folder))
        remove_dir(folder)
        typer.echo(f"wrote {words.count(count, 'predicted document')} to {output}")
    else:
        typer.echo(f"shards in {folder}")


@clean_errors
def predict_bench(
    model: Path = typer.Argument(..., help="Trained pipeline"),
    source: Path = typer.Argument(..., help="Articles, as for `workbench predict`"),
    workers: List[int] = typer.Option([1, 2], help="Worker counts to compare (repeat the option)"),
    shard_size: int = typer.Option(50, min=1, help="Articles per shard"),
):
    """Predict the same articles on LocalClusters of each worker count; print words/s and check the outputs are identical."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.predict_cluster import bench_workers

    for result in bench_workers(model, source, workers, shard_size):
        typer.echo(
            f"workers {result.run.workers}: {result.run.documents} documents, {result.run.words} words in "
            f"{result.run.seconds:.1f} s: {result.run.words_per_second:.0f} words/s (output sha256 {result.sha256[:12]})"
        )
