"""`workbench corpus build|export`: raw articles to the canonical corpus, and back out as JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench import words
from workbench.cli._common import check_splits, clean_errors

# At a million articles the pairs run to tens of thousands; the first few show what was found.
SHOWN = 20
app = typer.Typer(help="Build the canonical corpus from raw articles.", no_args_is_help=True)


@app.command("build")
@clean_errors
def build(
    sources: Optional[List[Path]] = typer.Argument(None, help=".txt/.jsonl files, folders or saved HF datasets (default: config)"),
    config: Path = typer.Option(Path("configs/corpus.yml"), help="Corpus config"),
    output: Optional[Path] = typer.Option(None, help="Where the corpus dataset goes (default: config)"),
    splits_file: Optional[Path] = typer.Option(None, help="Split lock file (default: config)"),
    threshold: Optional[float] = typer.Option(None, help="Near-duplicate threshold: estimated Jaccard similarity of word shingles"),
):
    """Read, deduplicate, group near-duplicates, split by document and store the corpus."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.corpus.build import build_corpus, load_corpus_config

    cfg = load_corpus_config(config)
    if sources:
        cfg.sources = [str(s) for s in sources]
    if output:
        cfg.output = str(output)
    if splits_file:
        cfg.splits_file = str(splits_file)
    if threshold is not None:
        cfg.near_duplicate_threshold = threshold
    result = build_corpus(cfg)
    counts = ", ".join(f"{k} {v}" for k, v in result.split_counts.items())
    typer.echo(f"corpus: {words.count(result.documents, 'document')} in {words.count(result.groups, 'group')} ({counts}) -> {cfg.output}")
    for dup in result.exact_duplicates:
        typer.echo(f"  dropped exact duplicate {dup.dropped} of {dup.kept} ({dup.source})")
    for pair in result.near_duplicate_pairs[:SHOWN]:
        typer.echo(f"  near-duplicates {pair.a} ~ {pair.b} (Jaccard ~{pair.score:.2f}) kept in one split")
    if len(result.near_duplicate_pairs) > SHOWN:
        typer.echo(f"  ... and {len(result.near_duplicate_pairs) - SHOWN} more near-duplicate pairs")


@app.command("export")
@clean_errors
def export(
    output: Path = typer.Argument(..., help="JSONL file to write"),
    corpus: Path = typer.Option(Path("corpus/build"), help="Corpus dataset"),
    split: Optional[str] = typer.Option(None, help="Only this split"),
):
    """Export the corpus (or one split) as JSONL, one article per line."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.corpus.store import export_jsonl

    check_splits(split)
    count = export_jsonl(corpus, output, split)
    typer.echo(f"wrote {words.count(count, 'article')} to {output}")


@app.command("bench")
@clean_errors
def bench(
    count: int = typer.Argument(..., min=2, help="How many synthetic articles"),
    config: Path = typer.Option(Path("configs/corpus.yml"), help="Corpus config (its near-duplicate settings are used)"),
    duplicates: float = typer.Option(0.05, min=0.0, max=0.5, help="Share of articles that are planted near-duplicates"),
    seed: int = typer.Option(0, help="Seed of the synthetic articles"),
    work_dir: Optional[Path] = typer.Option(None, help="Where the temporary articles and corpus go (default: the system's temp folder)"),
):
    """Build N synthetic articles with planted near-duplicates; print articles/s, peak memory, recall and precision."""
    # Imported here, not at the top: start-up time (see workbench/cli/__init__.py).
    from workbench.corpus.bench import bench_corpus
    from workbench.corpus.build import load_corpus_config

    cfg = load_corpus_config(config)
    r = bench_corpus(count, cfg, duplicates, seed, work_dir)
    gib = 1024**3
    typer.echo(f"articles: {r.articles} (generated in {r.generate_seconds:.1f} s)")
    typer.echo(f"build: {r.build_seconds:.1f} s, {r.articles_per_second:.0f} articles/s")
    typer.echo(f"peak memory: build {r.build_peak_bytes / gib:.2f} GiB, generator {r.bench_peak_bytes / gib:.2f} GiB (peak resident set)")
    typer.echo(f"planted near-duplicate pairs: {r.planted_pairs}; found {r.found_pairs}, of them planted {r.true_pairs}")
    typer.echo(f"recall {r.recall:.4f}, precision {r.precision:.4f}; planted pairs in one split: {r.planted_pairs_in_one_split}")
    typer.echo(f"groups joining unrelated articles: {r.mixed_groups}")
    typer.echo(
        f"machine: {r.cpus} CPUs, load average {r.load_before:.1f} before and {r.load_after:.1f} after "
        f"(settings: threshold {cfg.near_duplicate_threshold}, {cfg.minhash_num_perm} permutations, "
        f"{cfg.minhash_bands} bands, {cfg.shingle_size}-word shingles)"
    )
