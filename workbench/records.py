"""The canonical annotated-document record shared by every stage.

It is Doccano's own JSONL relation format, so the same file can be imported into
and exported from Doccano:

    {"doc_id": ..., "text": ...,
     "entities": [{"id", "label", "start_offset", "end_offset"}],
     "relations": [{"id", "from_id", "to_id", "type"}],
     ...metadata}

Extra keys on an entity or relation (a model's "score", the "annotators" who
made it) and extra top-level keys (source, date, split, ...) are kept as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from workbench.errors import WorkbenchError
from workbench.fileio import write_jsonl

EntityId = int | str

_ENTITY_KEYS = ("id", "label", "start_offset", "end_offset")
_RELATION_KEYS = ("id", "from_id", "to_id", "type")


@dataclass
class Entity:
    id: EntityId
    label: str
    start: int
    end: int
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "start_offset": self.start, "end_offset": self.end, **self.attrs}


@dataclass
class Relation:
    id: EntityId
    head: EntityId
    tail: EntityId
    type: str
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": self.id, "from_id": self.head, "to_id": self.tail, "type": self.type, **self.attrs}


@dataclass
class AnnotatedDoc:
    doc_id: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def entity_by_id(self) -> dict[EntityId, Entity]:
        return {e.id: e for e in self.entities}

    def to_dict(self) -> dict:
        return {
            "doc_id": self.doc_id,
            "text": self.text,
            "entities": [e.to_dict() for e in self.entities],
            "relations": [r.to_dict() for r in self.relations],
            **self.meta,
        }


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value: Any) -> bool:
    return _is_int(value) or (isinstance(value, str) and value != "")


def record_from_dict(obj: Any) -> AnnotatedDoc:
    """Parse one JSON object; raise WorkbenchError (no location) on a wrong shape or type."""
    if not isinstance(obj, dict):
        raise WorkbenchError(f"expected a JSON object, got {type(obj).__name__}")
    doc_id = obj.get("doc_id")
    if not isinstance(doc_id, str) or not doc_id:
        raise WorkbenchError("'doc_id' must be a non-empty string")
    text = obj.get("text")
    if not isinstance(text, str):
        raise WorkbenchError("'text' must be a string", doc_id=doc_id)
    raw_entities = obj.get("entities", [])
    raw_relations = obj.get("relations", [])
    if not isinstance(raw_entities, list):
        raise WorkbenchError("'entities' must be a list", doc_id=doc_id)
    if not isinstance(raw_relations, list):
        raise WorkbenchError("'relations' must be a list", doc_id=doc_id)
    entities = [_entity_from_dict(e, i, doc_id) for i, e in enumerate(raw_entities)]
    relations = [_relation_from_dict(r, i, doc_id) for i, r in enumerate(raw_relations)]
    meta = {k: v for k, v in obj.items() if k not in ("doc_id", "text", "entities", "relations")}
    return AnnotatedDoc(doc_id, text, entities, relations, meta)


def _entity_from_dict(obj: Any, index: int, doc_id: str) -> Entity:
    where = f"entities[{index}]"
    if not isinstance(obj, dict):
        raise WorkbenchError(f"{where} must be an object", doc_id=doc_id)
    missing = [k for k in _ENTITY_KEYS if k not in obj]
    if missing:
        raise WorkbenchError(f"{where} lacks {', '.join(missing)}", doc_id=doc_id)
    if not _is_id(obj["id"]):
        raise WorkbenchError(f"{where}.id must be an integer or a string", doc_id=doc_id)
    if not isinstance(obj["label"], str):
        raise WorkbenchError(f"{where}.label must be a string", doc_id=doc_id)
    for key in ("start_offset", "end_offset"):
        if not _is_int(obj[key]):
            raise WorkbenchError(f"{where}.{key} must be an integer, got {obj[key]!r}", doc_id=doc_id)
    attrs = {k: v for k, v in obj.items() if k not in _ENTITY_KEYS}
    return Entity(obj["id"], obj["label"], obj["start_offset"], obj["end_offset"], attrs)


def _relation_from_dict(obj: Any, index: int, doc_id: str) -> Relation:
    where = f"relations[{index}]"
    if not isinstance(obj, dict):
        raise WorkbenchError(f"{where} must be an object", doc_id=doc_id)
    missing = [k for k in _RELATION_KEYS if k not in obj]
    if missing:
        raise WorkbenchError(f"{where} lacks {', '.join(missing)}", doc_id=doc_id)
    for key in ("id", "from_id", "to_id"):
        if not _is_id(obj[key]):
            raise WorkbenchError(f"{where}.{key} must be an integer or a string", doc_id=doc_id)
    if not isinstance(obj["type"], str):
        raise WorkbenchError(f"{where}.type must be a string", doc_id=doc_id)
    attrs = {k: v for k, v in obj.items() if k not in _RELATION_KEYS}
    return Relation(obj["id"], obj["from_id"], obj["to_id"], obj["type"], attrs)


def iter_json_lines(path: str | Path) -> Iterator[tuple[int, Any, str | None]]:
    """Yield (line number, parsed object or None, problem or None) for each non-blank line.

    Never raises for bad content: undecodable bytes and bad JSON become problems.
    """
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise WorkbenchError(f"cannot read file: {exc.strerror or exc}", path=path) from None
    # Line by line: a file of a million articles is never in memory at once.
    with fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, f"not valid UTF-8 (byte {exc.start} of the line)"
                continue
            try:
                yield number, json.loads(text), None
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON: {exc.msg} (column {exc.colno})"


def iter_records(path: str | Path) -> Iterator[tuple[int, AnnotatedDoc]]:
    """Yield (line number, record) from a canonical JSONL file; the first bad line raises WorkbenchError with its location."""
    for number, obj, problem in iter_json_lines(path):
        if problem:
            raise WorkbenchError(problem, path=path, line=number)
        try:
            record = record_from_dict(obj)
        except WorkbenchError as exc:
            raise WorkbenchError(exc.message, path=path, line=number, doc_id=exc.doc_id) from None
        yield number, record


def read_records(path: str | Path) -> list[AnnotatedDoc]:
    """Read a canonical JSONL file; the first bad line raises WorkbenchError with its location."""
    return [record for _, record in iter_records(path)]


def write_records(path: str | Path, records: Iterable[AnnotatedDoc]) -> int:
    return write_jsonl(path, (r.to_dict() for r in records))
