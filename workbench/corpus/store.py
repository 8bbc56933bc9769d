"""The canonical corpus on disk: a Hugging Face dataset (Arrow), with a JSONL export."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.fileio import replace_dir, staging_dir, write_jsonl

COLUMNS = ("doc_id", "text", "sha256", "split", "group", "source", "date", "meta")


class CorpusWriter:
    """Stream rows into Arrow batches, then store them sorted by id as the corpus dataset, atomically.

    Only one batch of rows is in memory at a time. Until `finish`, the old corpus
    stays in place; a failed build leaves it untouched and removes its own files.
    """

    def __init__(self, path: str | Path, batch_size: int = 1000):
        import pyarrow as pa

        self.path = Path(path)
        self.count = 0
        self._batch_size = batch_size
        self._rows: list[dict] = []
        self._schema = pa.schema([(name, pa.string()) for name in COLUMNS])
        self._scratch = staging_dir(self.path.with_name(f"{self.path.name}-rows"))
        self._file = self._scratch / "rows.arrow"
        self._writer = pa.ipc.new_stream(str(self._file), self._schema)

    def write(self, row: dict) -> None:
        self._rows.append(row)
        self.count += 1
        if len(self._rows) >= self._batch_size:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_batch(pa.RecordBatch.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def finish(self) -> None:
        from datasets import Dataset

        self._flush()
        self._writer.close()
        staging = staging_dir(self.path)
        try:
            # Sorted by id as before streaming: the same articles give the same dataset, whatever the input order.
            with warnings.catch_warnings():
                # pyarrow's deprecation notice about the sort options `datasets` passes; nothing for us to change.
                warnings.simplefilter("ignore", FutureWarning)
                rows = Dataset.from_file(str(self._file)).sort("doc_id")
            rows.save_to_disk(str(staging))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)
        replace_dir(staging, self.path)

    def abandon(self) -> None:
        self._writer.close()
        shutil.rmtree(self._scratch, ignore_errors=True)


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
