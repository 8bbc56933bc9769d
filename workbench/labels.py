"""The label scheme (entity labels, relation types and signatures) read from configs/labels.yml."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from workbench.errors import WorkbenchError

DEFAULT_LABELS = Path("configs/labels.yml")


@dataclass(frozen=True)
class EntityLabel:
    name: str
    description: str = ""
    color: str = "#cccccc"
    shortcut: str | None = None


@dataclass(frozen=True)
class RelationType:
    name: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    symmetric: bool = False
    description: str = ""
    color: str = "#888888"
    shortcut: str | None = None

    def allows(self, head_label: str, tail_label: str) -> bool:
        if head_label in self.head and tail_label in self.tail:
            return True
        return self.symmetric and tail_label in self.head and head_label in self.tail


@dataclass(frozen=True)
class LabelScheme:
    name: str
    entities: dict[str, EntityLabel]
    relations: dict[str, RelationType] = field(default_factory=dict)
    description: str = ""

    @property
    def entity_labels(self) -> list[str]:
        return list(self.entities)

    @property
    def relation_types(self) -> list[str]:
        return list(self.relations)

    def is_symmetric(self, relation_type: str) -> bool:
        rel = self.relations.get(relation_type)
        return bool(rel and rel.symmetric)

    @property
    def symmetric_types(self) -> set[str]:
        return {name for name, rel in self.relations.items() if rel.symmetric}


def scheme_from_dict(data: object, source: str = "<labels>") -> LabelScheme:
    if not isinstance(data, dict) or not isinstance(data.get("entities"), dict) or not data["entities"]:
        raise WorkbenchError("a label config needs a non-empty 'entities' mapping", path=source)
    entities = {}
    for name, spec in data["entities"].items():
        spec = spec or {}
        entities[str(name)] = EntityLabel(
            str(name), spec.get("description", ""), spec.get("color", "#cccccc"), spec.get("shortcut")
        )
    relations = {}
    for name, spec in (data.get("relations") or {}).items():
        spec = spec or {}
        head, tail = spec.get("head"), spec.get("tail")
        if not head or not tail:
            raise WorkbenchError(f"relation {name} needs 'head' and 'tail' label lists", path=source)
        unknown = sorted((set(head) | set(tail)) - set(entities))
        if unknown:
            raise WorkbenchError(f"relation {name} names unknown entity labels: {', '.join(unknown)}", path=source)
        relations[str(name)] = RelationType(
            str(name),
            tuple(head),
            tuple(tail),
            bool(spec.get("symmetric", False)),
            spec.get("description", ""),
            spec.get("color", "#888888"),
            spec.get("shortcut"),
        )
    return LabelScheme(str(data.get("name", "labels")), entities, relations, data.get("description", ""))


def load_labels(path: str | Path = DEFAULT_LABELS) -> LabelScheme:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WorkbenchError(f"cannot read label config: {exc.strerror or exc}", path=path) from None
    except yaml.YAMLError as exc:
        raise WorkbenchError(f"not valid YAML: {exc}", path=path) from None
    return scheme_from_dict(data, str(path))
