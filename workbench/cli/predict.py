"""`workbench predict`: annotate articles with a trained pipeline, as canonical records."""

from __future__ import annotations

from pathlib import Path

import typer

from workbench import words
from workbench.cli._common import clean_errors


@clean_errors
def predict(
    model: Path = typer.Argument(..., help="Trained pipeline"),
    source: Path = typer.Argument(..., help="Articles: .txt/.jsonl/folder/HF dataset, or a corpus built by `corpus build`"),
    output: Path = typer.Option(..., "--output", "-o", help="JSONL file of predicted records"),
):
    """Write one predicted record (entities and relations) per article."""
    from tqdm import tqdm

    from workbench.corpus.ingest import is_hf_dataset_dir, read_source
    from workbench.predict import load_pipeline, predict_records
    from workbench.records import write_records

    nlp = load_pipeline(model)
    if is_hf_dataset_dir(source):
        from workbench.corpus.store import load_corpus

        data = load_corpus(source)
        articles = ((row["doc_id"], row["text"], {"split": row.get("split")}) for row in data)
        total = len(data)
    else:
        raw = list(read_source(source))
        articles = ((a.doc_id, a.text, {}) for a in raw)
        total = len(raw)
    records = tqdm(predict_records(nlp, articles), total=total, desc="predict", unit="doc", disable=total < 20)
    count = write_records(output, records)
    typer.echo(f"wrote {words.count(count, 'predicted document')} to {output}")
