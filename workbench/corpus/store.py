"""The canonical corpus on disk: a Hugging Face dataset (Arrow), what the other stages ask of it (`Corpus`), and a JSONL export."""

from __future__ import annotations

import hashlib
import heapq
import json
import shutil
from operator import itemgetter
from pathlib import Path

from tqdm import tqdm

from workbench.corpus.ingest import text_sha256
from workbench.errors import WorkbenchError
from workbench.fileio import staged_dir, staging_dir, write_errors, write_json, write_jsonl
from workbench.records import AnnotatedDoc

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
        import pyarrow as pa  # here, as `datasets` below: only a build writes runs

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
    import pyarrow as pa  # here, as `datasets` below: only a build reads runs

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
    # Imported here: `datasets` takes most of a second to import, and only reading or writing a corpus needs it.
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


def is_built(path: str | Path) -> bool:
    """Whether a built corpus is at `path` (what `load_corpus` needs)."""
    return (Path(path) / "dataset_info.json").exists()


def load_corpus(path: str | Path):
    """The corpus rows, texts included, as a Hugging Face dataset; no corpus at `path` is an error."""
    # Imported here: `datasets` takes most of a second to import, and only reading or writing a corpus needs it.
    from datasets import load_from_disk

    path = Path(path)
    if not is_built(path):
        raise WorkbenchError("no corpus here; run `workbench corpus build` first", path=path)
    return load_from_disk(str(path))


class Corpus:
    """The built corpus as the other stages ask it: which documents it has, each one's split and group,
    and whether a record's text is the one it stores. Rows are kept without their texts."""

    def __init__(self, path: str | Path, rows: dict[str, dict]):
        self.path = Path(path)
        self._rows = rows

    @classmethod
    def open(cls, path: str | Path) -> "Corpus":
        """The corpus at `path`; none there is an error that says to build it."""
        data = load_corpus(path).remove_columns(["text"])
        return cls(path, {row["doc_id"]: row for row in data})

    @classmethod
    def open_if_built(cls, path: str | Path) -> "Corpus | None":
        """The corpus at `path`, or None where none has been built (for checks that are skipped without one)."""
        return cls.open(path) if is_built(path) else None

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def doc_ids(self) -> list[str]:
        return list(self._rows)

    def split_of(self, doc_id: str) -> str | None:
        """The document's split; None for a document the corpus does not have."""
        row = self._rows.get(doc_id)
        return None if row is None else row["split"]

    def splits(self) -> dict[str, str]:
        """doc_id -> its split."""
        return {doc_id: row["split"] for doc_id, row in self._rows.items()}

    def in_split(self, split: str) -> list[str]:
        """The ids of the split's documents."""
        return [doc_id for doc_id, row in self._rows.items() if row["split"] == split]

    def groups(self) -> dict[str, str]:
        """doc_id -> its group (near-duplicates and keep_together articles share one)."""
        if self._rows and any("group" not in row for row in self._rows.values()):
            raise WorkbenchError("this corpus was built before groups were stored; run `workbench corpus build` again", path=self.path)
        return {doc_id: row["group"] for doc_id, row in self._rows.items()}

    def text_problem(self, record: AnnotatedDoc) -> str | None:
        """What is wrong with the record against the corpus (not in it, or another text), or None."""
        row = self._rows.get(record.doc_id)
        if row is None:
            return "document is not in the corpus"
        if row["sha256"] != text_sha256(record.text):
            return "text differs from the corpus record (sha256 mismatch)"
        return None


def export_jsonl(corpus_path: str | Path, out: str | Path, split: str | None = None) -> int:
    data = load_corpus(corpus_path)
    if split:
        data = data.filter(lambda row: row["split"] == split)

    def rows():
        for row in data:
            meta = json.loads(row.pop("meta") or "{}")
            yield {**row, **meta}

    return write_jsonl(out, rows())
