"""The label scheme (entity labels, relation types and their signatures): the one type every stage is given.

Read from configs/labels.yml through a schema (unknown keys, duplicate keys or shortcuts,
unknown labels in a signature are errors naming the file, key and line), or rebuilt from
the signatures a trained relation component keeps in its cfg.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, TypeVar, Union

from pydantic import BaseModel, StrictBool, confloat, constr, root_validator

from workbench.yamlconfig import SchemaProblem, load_yaml_model

DEFAULT_LABELS = Path("configs/labels.yml")

Position = TypeVar("Position")


@dataclass(frozen=True)
class LabelPatterns:
    """What a label gives the span ruler (see PatternEntry): patterns derived from gold, and the team's own."""

    from_gold: bool = False
    min_precision: float = 0.9
    add: tuple = ()  # phrases (str) and token patterns (lists of token dicts)


@dataclass(frozen=True)
class EntityLabel:
    name: str
    description: str = ""
    color: str = "#cccccc"
    shortcut: str | None = None
    # The base model's label this one corresponds to (see EntityEntry.base_label).
    base_label: str | None = None
    # Span-ruler patterns for this label (workbench.training.patterns); None: none.
    patterns: LabelPatterns | None = None


@dataclass(frozen=True)
class RelationType:
    """A relation type and its signature: which entity labels may be its head and its tail."""

    name: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    symmetric: bool = False
    description: str = ""
    color: str = "#888888"
    shortcut: str | None = None
    # Words that state this relation (from the guidelines): cues for a type with few examples.
    triggers: tuple[str, ...] = ()
    # Types of one group share what they have in common (RelationModel.v3): the same arguments, told apart by their triggers.
    group: str | None = None

    def allows(self, head_label: str, tail_label: str) -> bool:
        """Whether these labels may be joined: head -> tail, or either way round for a symmetric type."""
        if head_label in self.head and tail_label in self.tail:
            return True
        return self.symmetric and tail_label in self.head and head_label in self.tail

    def allows_candidate(self, head_label: str, tail_label: str, head_first: bool) -> bool:
        """Whether the relation model scores this type on the ordered pair: a symmetric type only in text order."""
        return self.allows(head_label, tail_label) and (head_first or not self.symmetric)

    def ordered(self, head: Position, tail: Position) -> tuple[Position, Position]:
        """The one ordering rule: a symmetric relation's arguments in text order, so its direction never counts.

        head and tail are comparable positions that start with the start offset: (start, end),
        (start, end, label), token offsets.
        """
        return (tail, head) if self.symmetric and tail < head else (head, tail)

    def signature(self) -> dict:
        """What a trained relation component keeps in its cfg."""
        signature = {"head": list(self.head), "tail": list(self.tail), "symmetric": self.symmetric}
        return {**signature, "group": self.group} if self.group else signature


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

    def ordered(self, relation_type: str, head: Position, tail: Position) -> tuple[Position, Position]:
        """RelationType.ordered for the named type; a type the scheme lacks keeps its direction."""
        rel = self.relations.get(relation_type)
        return rel.ordered(head, tail) if rel else (head, tail)

    @property
    def colors(self) -> dict[str, str]:
        """Label and relation type -> CSS colour."""
        return {**{n: e.color for n, e in self.entities.items()}, **{n: r.color for n, r in self.relations.items()}}

    def signatures(self) -> dict:
        """{type: {"head", "tail", "symmetric"[, "group"]}}: what a relation component serialises."""
        return {name: rel.signature() for name, rel in self.relations.items()}

    @property
    def groups(self) -> dict[str, list[str]]:
        """{group: its member types, in scheme order}."""
        groups: dict[str, list[str]] = {}
        for name, rel in self.relations.items():
            if rel.group:
                groups.setdefault(rel.group, []).append(name)
        return groups

    @classmethod
    def from_signatures(cls, signatures: dict, name: str = "signatures") -> "LabelScheme":
        """The scheme a trained relation component knows: its relation types, and the entity labels they join."""
        relations = {
            str(t): RelationType(str(t), tuple(s["head"]), tuple(s["tail"]), bool(s.get("symmetric", False)), group=s.get("group"))
            for t, s in signatures.items()
        }
        labels = dict.fromkeys(label for rel in relations.values() for label in (*rel.head, *rel.tail))
        return cls(name, {label: EntityLabel(label) for label in labels}, relations)


# --- the file schema (configs/labels.yml) ------------------------------------------------------

Color = constr(regex=r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")
Shortcut = constr(min_length=1, max_length=1)


class PatternEntry(BaseModel):
    """A label's span-ruler patterns (workbench.training.patterns).

    from_gold: derive phrase and token patterns from the gold entities of this label that
    a model trains on, each kept only if it was right at least min_precision of the times
    it matched in that gold. add: the team's own patterns, spaCy's format without the
    label: a phrase ("Foreign Minister") or a token pattern ([{"LOWER": "spokesperson"}]).
    """

    from_gold: StrictBool = False
    min_precision: confloat(ge=0, le=1) = 0.9
    add: List[Union[str, List[Dict[str, Any]]]] = []

    class Config:
        extra = "forbid"


class EntityEntry(BaseModel):
    """One entity label.

    base_label: the label of the base model (e.g. en_core_web_md's PERSON) that this label
    corresponds to, for schemes whose names differ (CoNLL04's Peop -> PERSON). null (the
    default) means: the same name, if the base model has that label, else none.
    """

    description: str = ""
    color: Color = "#cccccc"
    shortcut: Optional[Shortcut] = None
    base_label: Optional[str] = None
    patterns: Optional[PatternEntry] = None

    class Config:
        extra = "forbid"


class RelationEntry(BaseModel):
    """One relation type: its signature (head and tail labels) and whether direction counts.

    triggers: words that state the relation ("met", "hosted"; "phoned"), taken from the
    guidelines. The relation model (v2) takes a trigger between or around a pair as a cue
    for its type (lower-case word match), which helps most the types with few examples.

    group: types with the same group (and the same signature) share what they have in
    common: relation model v3 learns from all their examples whether a pair is in the
    group at all, and which member it is from their triggers.
    """

    description: str = ""
    head: List[str]
    tail: List[str]
    symmetric: StrictBool = False
    color: Color = "#888888"
    shortcut: Optional[Shortcut] = None
    triggers: List[str] = []
    group: Optional[constr(min_length=1)] = None

    class Config:
        extra = "forbid"


class LabelsFile(BaseModel):
    name: str = "labels"
    description: str = ""
    entities: Dict[str, EntityEntry]
    relations: Dict[str, RelationEntry] = {}

    class Config:
        extra = "forbid"

    @root_validator(skip_on_failure=True)
    def _consistent(cls, values):
        entities, relations = values["entities"], values["relations"]
        if not entities:
            raise SchemaProblem(message="needs at least one entity label", at=("entities",))
        for name, rel in relations.items():
            for side in ("head", "tail"):
                if not getattr(rel, side):
                    raise SchemaProblem(message="needs at least one entity label", at=("relations", name, side))
                unknown = [label for label in getattr(rel, side) if label not in entities]
                if unknown:
                    known = ", ".join(entities)
                    raise SchemaProblem(message=f"unknown entity label {unknown[0]!r} (known: {known})", at=("relations", name, side))
        members: dict[str, str] = {}
        for name, rel in relations.items():
            if rel.group is None:
                continue
            if rel.group in relations or rel.group in entities:
                raise SchemaProblem(message=f"group {rel.group!r} is also a label or relation type name", at=("relations", name, "group"))
            first = members.setdefault(rel.group, name)
            other = relations[first]
            if (sorted(rel.head), sorted(rel.tail), rel.symmetric) != (sorted(other.head), sorted(other.tail), other.symmetric):
                raise SchemaProblem(
                    message=f"group {rel.group!r}: {name} needs the same head, tail and symmetric as {first}", at=("relations", name, "group")
                )
        taken: dict[str, tuple] = {}
        for group, entries in (("entities", entities), ("relations", relations)):
            for name, entry in entries.items():
                if entry.shortcut is None:
                    continue
                if entry.shortcut in taken:
                    first = ".".join(taken[entry.shortcut])
                    raise SchemaProblem(message=f"shortcut {entry.shortcut!r} is already {first}'s", at=(group, name, "shortcut"))
                taken[entry.shortcut] = (group, name)
        return values

    def scheme(self) -> LabelScheme:
        entities = {
            n: EntityLabel(n, e.description, e.color, e.shortcut, e.base_label, _label_patterns(e.patterns))
            for n, e in self.entities.items()
        }
        relations = {
            n: RelationType(n, tuple(r.head), tuple(r.tail), r.symmetric, r.description, r.color, r.shortcut, tuple(r.triggers), r.group)
            for n, r in self.relations.items()
        }
        return LabelScheme(self.name, entities, relations, self.description)


def _label_patterns(entry: PatternEntry | None) -> LabelPatterns | None:
    return None if entry is None else LabelPatterns(entry.from_gold, entry.min_precision, tuple(entry.add))


def load_labels(path: str | Path = DEFAULT_LABELS) -> LabelScheme:
    return load_yaml_model(path, LabelsFile, "label config").scheme()
