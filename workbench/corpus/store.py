"""The canonical corpus on disk: a Hugging Face dataset (Arrow), with a JSONL export."""

from __future__ import annotations

import hashlib
import heapq
import json
import shutil
from operator import itemgetter
from pathlib import Path

from tqdm import tqdm

from workbench.errors import WorkbenchError
from workbench.fileio import staged_dir, staging_dir, write_errors, write_json, write_jsonl

COLUMNS = ("doc_id", "text", "sha256", "split", "group", "source", "date", "meta")
_DATA_FILE = "data-00000-of-00001.arrow"
# What a build agrees with (the split lock file's sha256), beside the dataset's own files.
BUILD_NOTES = "build.json"
# Rows per batch in a run file: the merge holds one batch per run (50 runs at a million articles).
_RUN_BATCH = 200


class CorpusWriter:
    """Stream rows into sorted runs on disk, then merge them into the corpus dataset, sorted by id, atomically.

    One run of rows is in memory while writing, one small batch per run while
    merging. The merge writes the Hugging Face dataset files itself (the data
    through `datasets`' ArrowWriter, as `save_to_disk` does): `save_to_disk`
    reads the whole data back through a memory map, whose pages count in the
    resident set (367 MB at 100,000 articles, and it grows with the corpus).
    Until `finish`, the old corpus stays in place; a failed build leaves it
    untouched and removes its own files.
    """

    def __init__(self, path: str | Path, run_rows: int = 20_000):
        self.path = Path(path)
        self.count = 0
        self._run_rows = run_rows
        self._rows: list[dict] = []
        self._runs: list[Path] = []
        self._scratch = staging_dir(self.path.with_name(f"{self.path.name}-rows"))

    def write(self, row: dict) -> None:
        self._rows.append(row)
        self.count += 1
        if len(self._rows) >= self._run_rows:
            self._spill()

    def _spill(self) -> None:
        import pyarrow as pa

        if not self._rows:
            return
        self._rows.sort(key=itemgetter("doc_id"))
        path = self._scratch / f"run-{len(self._runs):05d}.arrow"
        schema = pa.schema([(name, pa.string()) for name in COLUMNS])
        with write_errors(self.path), pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
            for start in range(0, len(self._rows), _RUN_BATCH):
                writer.write_batch(pa.RecordBatch.from_pylist(self._rows[start : start + _RUN_BATCH], schema=schema))
        self._runs.append(path)
        self._rows = []

    def finish(self, notes: dict | None = None) -> None:
        """Merge the runs into the dataset and swap it in whole; `notes` go with it, as build.json."""
        try:
            self._spill()
            with staged_dir(self.path) as staging:
                # Sorted by id: the same articles give the same dataset, whatever the input order.
                merged = heapq.merge(*(_read_run(run) for run in self._runs), key=itemgetter("doc_id"))
                write_dataset(staging, tqdm(merged, total=self.count, desc="corpus: store", unit="article", disable=None))
                if notes is not None:
                    write_json(staging / BUILD_NOTES, notes)
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def abandon(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)


def _read_run(path: Path):
    import pyarrow as pa

    # Read batch by batch into memory that is freed after use; a memory map's pages would stay resident.
    with pa.OSFile(str(path)) as source:
        for batch in pa.ipc.open_stream(source):
            yield from batch.to_pylist()


def write_dataset(folder: Path, rows) -> None:
    """Write `rows` (dicts with the COLUMNS) into the empty `folder` as a dataset `load_from_disk` reads.

    The layout is `save_to_disk`'s for one shard: the Arrow data file, the
    DatasetInfo, and state.json. The fingerprint is the sha256 of the rows' ids
    and text hashes, so the same corpus gets the same one.
    """
    from datasets import DatasetInfo, Features, Value
    from datasets.arrow_writer import ArrowWriter

    features = Features({name: Value("string") for name in COLUMNS})
    digest = hashlib.sha256()
    writer = ArrowWriter(features=features, path=str(folder / _DATA_FILE), writer_batch_size=1000)
    try:
        for row in rows:
            digest.update(f"{row['doc_id']}\t{row['sha256']}\n".encode("utf-8"))
            writer.write(row)
        writer.finalize()
    finally:
        writer.close()
    DatasetInfo(features=features).write_to_directory(str(folder))
    state = {
        "_data_files": [{"filename": _DATA_FILE}],
        "_fingerprint": digest.hexdigest()[:16],
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    write_json(folder / "state.json", state)


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
