"""The canonical corpus on disk: a Hugging Face dataset (Arrow), with a JSONL export."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.fileio import replace_dir, staging_dir, write_jsonl

COLUMNS = ("doc_id", "text", "sha256", "split", "group", "source", "date", "meta")


def save_corpus(rows: list[dict], path: str | Path) -> None:
    """Write the corpus to `path` atomically (a failed build leaves the old corpus in place)."""
    from datasets import Dataset

    columns = {name: [row[name] for row in rows] for name in COLUMNS}
    staging = staging_dir(path)
    Dataset.from_dict(columns).save_to_disk(str(staging))
    replace_dir(staging, path)


def load_corpus(path: str | Path):
    from datasets import load_from_disk

    path = Path(path)
    if not (path / "dataset_info.json").exists():
        raise WorkbenchError("no corpus here; run `workbench corpus build` first", path=path)
    return load_from_disk(str(path))


def corpus_index(path: str | Path) -> dict[str, dict]:
    """doc_id -> {sha256, split, ...} without the texts, for checks and splits."""
    data = load_corpus(path).remove_columns(["text"])
    return {row["doc_id"]: row for row in data}


def document_groups(index: dict[str, dict], path: str | Path) -> dict[str, str]:
    """doc_id -> its group (near-duplicates and keep_together articles share one), from a corpus_index."""
    if index and any("group" not in row for row in index.values()):
        raise WorkbenchError("this corpus was built before groups were stored; run `workbench corpus build` again", path=path)
    return {doc_id: row["group"] for doc_id, row in index.items()}


def export_jsonl(corpus_path: str | Path, out: str | Path, split: str | None = None) -> int:
    data = load_corpus(corpus_path)
    if split:
        data = data.filter(lambda row: row["split"] == split)

    def rows():
        for row in data:
            meta = json.loads(row.pop("meta") or "{}")
            yield {**row, **meta}

    return write_jsonl(out, rows())
