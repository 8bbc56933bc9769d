"""Settings files: a YAML mapping whose keys must all be known, or one clear error."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import yaml

from workbench.errors import WorkbenchError


def read_settings(path: str | Path, known: Iterable[str]) -> dict | None:
    """The file's top-level mapping (None if there is no such file); bad YAML or an unknown key raises WorkbenchError."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise WorkbenchError(f"not valid YAML: {exc}", path=path) from None
    return check_keys(data, known, path)


def check_keys(data: object, known: Iterable[str], path: str | Path, where: str = "") -> dict:
    if not isinstance(data, dict):
        raise WorkbenchError(f"expected a mapping of settings{f' under {where}' if where else ''}", path=path)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise WorkbenchError(f"unknown keys{f' under {where}' if where else ''}: {', '.join(unknown)}", path=path)
    return data
