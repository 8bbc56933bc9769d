"""Read raw articles (.txt files, .jsonl with a text field, local Hugging Face datasets) into raw records."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from workbench import words
from workbench.errors import WorkbenchError
from workbench.records import iter_json_lines

log = logging.getLogger(__name__)

# A leading metadata header such as " date 2026-03-04 " belongs to the article's
# metadata, not its text; the text after it is kept byte for byte.
_DATE_HEADER = re.compile(r"\A[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2})(?:[ \t]*\r?\n|[ \t]+)")
_TEXT_FIELDS = ("text", "content", "body")
_ID_FIELDS = ("doc_id", "id")


@dataclass
class RawArticle:
    doc_id: str
    text: str
    source: str
    date: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_header(raw: str) -> tuple[str, str | None]:
    """Return (text, date) with a leading ' date YYYY-MM-DD ' header removed."""
    match = _DATE_HEADER.match(raw)
    if not match:
        return raw, None
    return raw[match.end():], match.group(1)


def read_txt(path: Path) -> RawArticle:
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorkbenchError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
    text, date = split_header(raw)
    check_not_empty(text, path)
    return RawArticle(doc_id=path.stem, text=text, source=str(path), date=date)


def check_not_empty(text: str, path: Path, line: int | None = None, where: str = "") -> None:
    # An empty article would be locked into corpus/splits.json for ever; stop before anything is written.
    if not text.strip():
        raise WorkbenchError(f"empty article{where}: no text, or only whitespace", path=path, line=line)


def _article_from_row(row: dict, source: str, path: Path, line: int | None) -> tuple[RawArticle, str]:
    """The article of one JSONL line or dataset row, and the field its text came from."""
    text_key = next((k for k in _TEXT_FIELDS if isinstance(row.get(k), str)), None)
    if text_key is None:
        raise WorkbenchError(f"no text field (one of {', '.join(_TEXT_FIELDS)})", path=path, line=line)
    text = row[text_key]
    check_not_empty(text, path, line, where=f" at {source[len(str(path)):]}" if line is None else "")
    id_key = next((k for k in _ID_FIELDS if row.get(k) not in (None, "")), None)
    # Without an id, the content hash is the only id that stays stable as files change.
    doc_id = str(row[id_key]) if id_key else text_sha256(text)[:16]
    date = row.get("date")
    meta = {k: v for k, v in row.items() if k not in (text_key, id_key, "date")}
    return RawArticle(doc_id=doc_id, text=text, source=source, date=str(date) if date else None, meta=meta), text_key


def _say_text_fields(path: Path, fields: Counter) -> None:
    """`text` is the documented field; articles whose text came from `content` or `body` are said so, per file."""
    for name, count in sorted(fields.items()):
        if name != "text":
            log.warning("%s: %s no 'text' field; read the text from %r", path, words.count(count, "article has", "articles have"), name)


def read_jsonl(path: Path, say_fields: bool = True) -> Iterator[RawArticle]:
    fields = Counter()
    for number, obj, problem in iter_json_lines(path):
        if problem:
            raise WorkbenchError(problem, path=path, line=number)
        if not isinstance(obj, dict):
            raise WorkbenchError("expected a JSON object", path=path, line=number)
        article, field_name = _article_from_row(obj, f"{path}:{number}", path, number)
        fields[field_name] += 1
        yield article
    if say_fields:
        _say_text_fields(path, fields)


def is_hf_dataset_dir(path: Path) -> bool:
    return path.is_dir() and ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists())


def read_hf_dataset(path: Path, say_fields: bool = True) -> Iterator[RawArticle]:
    # Imported here: `datasets` takes most of a second to import, and only a saved dataset as a source needs it.
    from datasets import DatasetDict, load_from_disk

    data = load_from_disk(str(path))
    parts = data.items() if isinstance(data, DatasetDict) else [(None, data)]
    fields = Counter()
    for part_name, part in parts:
        index = 0
        # Arrow batches: one batch of rows in memory, however large the dataset.
        for batch in part.iter(batch_size=1000):
            for values in zip(*batch.values()):
                source = f"{path}[{part_name}:{index}]" if part_name else f"{path}[{index}]"
                article, field_name = _article_from_row(dict(zip(batch, values)), source, path, None)
                fields[field_name] += 1
                yield article
                index += 1
    if say_fields:
        _say_text_fields(path, fields)


def read_source(path: str | Path, say_fields: bool = True) -> Iterator[RawArticle]:
    """Yield the articles of one file, a folder of files, or a saved Hugging Face dataset.

    say_fields: warn, per file, about articles whose text came from `content` or `body`, not `text`.
    """
    path = Path(path)
    if not path.exists():
        raise WorkbenchError("no such file or folder", path=path)
    if is_hf_dataset_dir(path):
        yield from read_hf_dataset(path, say_fields)
    elif path.is_dir():
        for child in sorted(path.iterdir()):
            if child.name.startswith(".") or child.name.lower() == "readme.md":
                continue
            if child.suffix in (".txt", ".jsonl") or is_hf_dataset_dir(child):
                yield from read_source(child, say_fields)
    elif path.suffix == ".txt":
        yield read_txt(path)
    elif path.suffix == ".jsonl":
        yield from read_jsonl(path, say_fields)
    else:
        raise WorkbenchError("unsupported input: expected .txt, .jsonl or a saved Hugging Face dataset", path=path)


def iter_shards(paths: list[str | Path], size: int = 10_000, say_fields: bool = True) -> Iterator[list[RawArticle]]:
    """The articles of all sources, in lists of at most `size`: memory is bounded by a shard, not the corpus."""
    shard: list[RawArticle] = []
    for path in paths:
        for article in read_source(path, say_fields):
            shard.append(article)
            if len(shard) >= size:
                yield shard
                shard = []
    if shard:
        yield shard


def dumps_meta(meta: dict) -> str:
    return json.dumps(meta, ensure_ascii=False, sort_keys=True)
