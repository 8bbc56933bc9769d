"""CoNLL04 (tokenized sentences, SpERT's JSON) -> canonical records, keeping the published split.

Each sentence becomes one document: its tokens joined by single spaces, so every
entity boundary falls on whitespace and stays a token boundary for spaCy too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.annotations.validate import check_record
from workbench.docs import make_gold_nlp
from workbench.errors import WorkbenchError
from workbench.fileio import write_jsonl
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc, Entity, Relation

SPLITS = ("train", "dev", "test")
DEFAULT_DIR = Path("../shared/benchmarks/conll04")
LABELS = Path("configs/benchmarks/conll04-labels.yml")


def sentence_to_record(sentence: Any, split: str, where: str) -> AnnotatedDoc:
    """One SpERT-format sentence -> record; `where` (file and index) names it in errors."""
    try:
        tokens = sentence["tokens"]
        orig_id = sentence["orig_id"]
        doc_id = f"conll04-{orig_id}"
        offsets, text_parts, pos = [], [], 0
        for token in tokens:
            if not isinstance(token, str) or not token or any(ch.isspace() for ch in token):
                raise WorkbenchError(f"{where}: token {token!r} is empty, not a string or contains whitespace")
            offsets.append((pos, pos + len(token)))
            text_parts.append(token)
            pos += len(token) + 1
        entities = []
        for number, ent in enumerate(sentence["entities"], start=1):
            start, end = ent["start"], ent["end"]
            if not (0 <= start < end <= len(tokens)):
                raise WorkbenchError(f"{where}: entity {number - 1} has token range {start}-{end} outside 0-{len(tokens)}")
            entities.append(Entity(number, ent["type"], offsets[start][0], offsets[end - 1][1]))
        relations = []
        for number, rel in enumerate(sentence["relations"], start=1):
            head, tail = rel["head"], rel["tail"]
            if not (0 <= head < len(entities) and 0 <= tail < len(entities)):
                raise WorkbenchError(f"{where}: relation {number - 1} points at entity {head} or {tail}, of {len(entities)}")
            relations.append(Relation(number, head + 1, tail + 1, rel["type"]))
    except (KeyError, TypeError) as exc:
        raise WorkbenchError(f"{where}: not a CoNLL04 sentence (missing or wrong field {exc})") from None
    meta = {"split": split, "source": "conll04", "orig_id": orig_id}
    return AnnotatedDoc(doc_id, " ".join(text_parts), entities, relations, meta)


def read_split(path: Path, split: str) -> list[AnnotatedDoc]:
    try:
        sentences = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WorkbenchError(f"cannot read: {exc.strerror or exc}", path=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WorkbenchError(f"not valid JSON: {exc}", path=path) from None
    if not isinstance(sentences, list):
        raise WorkbenchError("expected a JSON array of sentences", path=path)
    return [sentence_to_record(s, split, f"{path}: sentence {i}") for i, s in enumerate(sentences)]


def read_conll04(directory: str | Path, scheme: LabelScheme) -> dict[str, list[AnnotatedDoc]]:
    """All three splits, checked against the label scheme and spaCy's tokenizer."""
    directory = Path(directory)
    by_split = {split: read_split(directory / f"{split}.json", split) for split in SPLITS}
    seen: dict[str, str] = {}
    make_doc = make_gold_nlp().make_doc
    for split, records in by_split.items():
        for record in records:
            if record.doc_id in seen:
                raise WorkbenchError(f"orig_id is also in {seen[record.doc_id]}", path=directory / f"{split}.json", doc_id=record.doc_id)
            seen[record.doc_id] = split
            problems = check_record(record, scheme, make_doc)
            if problems:
                message, start, end = problems[0]
                raise WorkbenchError(f"{message} ({start}-{end})", path=directory / f"{split}.json", doc_id=record.doc_id)
    return by_split


def write_splits(by_split: dict[str, list[AnnotatedDoc]], out_dir: str | Path) -> dict[str, Path]:
    """One canonical JSONL file per split: OUT/train.jsonl, dev.jsonl, test.jsonl."""
    paths = {}
    for split, records in by_split.items():
        paths[split] = Path(out_dir) / f"{split}.jsonl"
        write_jsonl(paths[split], (r.to_dict() for r in records))
    return paths
