"""Settings files: read a YAML file through a pydantic schema, or fail with one line naming the file, key and line.

Every settings file (labels.yml, corpus.yml, doccano.yml, the benchmark YAML) goes through
`load_yaml_model`. Schemas forbid unknown keys (`class Config: extra = "forbid"`), so a typo
such as `symetric: true` is an error instead of a silently ignored key. YAML itself accepts a
key twice (the last one wins); here that is an error too.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Type, TypeVar

import yaml
from pydantic import BaseModel, PydanticValueError, ValidationError
from pydantic.fields import SHAPE_SINGLETON

from workbench.errors import WorkbenchError

Model = TypeVar("Model", bound=BaseModel)
Loc = tuple


class SchemaProblem(PydanticValueError):
    """Raise from a schema's validator to point at a key below it: `SchemaProblem(message=..., at=("relations", "MET"))`."""

    code = "workbench"
    msg_template = "{message}"


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)


def key_lines(node: yaml.Node, path: str | Path, loc: Loc = ()) -> dict[Loc, int]:
    """{key path: 1-based line} for every key and list item under `node`; a duplicate key raises WorkbenchError."""
    lines: dict[Loc, int] = {loc: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise WorkbenchError(f"duplicate key {_dotted((*loc, key))!r} (first at line {seen[key]})", path=path, line=line)
            seen[key] = line
            lines.update(key_lines(value_node, path, (*loc, key)))
            lines[(*loc, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(key_lines(item, path, (*loc, index)))
    return lines


def _line(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest part of `loc` that is in the file (a missing key: its parent's line)."""
    for end in range(len(loc), 0, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return None


def _known_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the schema allows beside the last part of `loc` (for 'did you mean')."""
    current, parts = model, list(loc[:-1])
    while parts:
        field = current.__fields__.get(str(parts.pop(0))) if isinstance(current, type) and issubclass(current, BaseModel) else None
        if field is None:
            return []
        if field.shape != SHAPE_SINGLETON and parts:
            parts.pop(0)  # a dict key or list index: the schema is the same for every one
        current = field.type_
    return list(current.__fields__) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _describe(error: dict, model: type[BaseModel]) -> tuple[Loc, str]:
    loc = tuple(p for p in error["loc"] if p != "__root__") + tuple((error.get("ctx") or {}).get("at", ()))
    kind, message = error["type"], error["msg"]
    if kind == "value_error.extra":
        close = difflib.get_close_matches(str(loc[-1]), _known_keys(model, loc), n=1)
        message = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    elif kind == "value_error.missing":
        message = "required key is missing"
    return loc, message


def load_yaml_model(path: str | Path, model: Type[Model], what: str = "settings") -> Model:
    """Parse the YAML file at `path` through `model`; any problem raises one WorkbenchError naming file, line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkbenchError(f"cannot read {what}: {exc.strerror or exc}", path=path) from None
    try:
        node, data = _parse_once(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise WorkbenchError(f"not valid YAML: {problem}", path=path, line=mark.line + 1 if mark else None) from None
    lines = key_lines(node, path) if node is not None else {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WorkbenchError(f"expected a mapping of {what}, got {type(data).__name__}", path=path, line=1)
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        problems = [_describe(error, model) for error in exc.errors()]
        (loc, message), rest = problems[0], problems[1:]
        more = "".join(f"; line {_line(lines, l) or '?'}: {_dotted(l)}: {m}" for l, m in rest)
        raise WorkbenchError(f"{_dotted(loc) or 'file'}: {message}{more}", path=path, line=_line(lines, loc)) from None


def _parse_once(text: str) -> tuple[yaml.Node | None, object]:
    """The node tree (for line numbers) and the data built from it, from one parse."""
    loader = yaml.SafeLoader(text)  # raises ReaderError on characters YAML does not allow
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def load_optional_yaml_model(path: str | Path, model: Type[Model], what: str = "settings") -> Model:
    """As load_yaml_model; a missing file means the schema's defaults."""
    return load_yaml_model(path, model, what) if Path(path).exists() else model()
