"""spaCy config overrides from the command line (`--training.max_steps 100`), checked before training starts.

`spacy train` turns every unknown `--x.y` option into an override, so a misspelled
workbench option would surface as a traceback deep in spaCy. Here each option must be
`--section.key VALUE` and name a setting that one of the configs has; anything else is a
one-line error naming the option.
"""

from __future__ import annotations

from pathlib import Path

import click
from spacy.cli._util import parse_config_overrides
from spacy.util import load_config

from workbench.errors import WorkbenchError


def parse_overrides(args: list[str]) -> dict:
    """spaCy's own parser, with its exits and click errors turned into WorkbenchErrors."""
    for arg in args:
        if arg.startswith("--") and "." not in arg.split("=", 1)[0]:
            raise WorkbenchError(f"no such option: {arg} (see --help; spaCy settings are written --section.key VALUE)")
    try:
        return parse_config_overrides(list(args))
    except (click.ClickException, SystemExit) as exc:
        raise WorkbenchError(f"cannot read the options {' '.join(args)}: {exc}") from None


def _has_setting(config, dotted: str) -> bool:
    node = config
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def route_overrides(overrides: dict, configs: dict[str, Path]) -> dict[str, dict]:
    """{part: the overrides whose setting that part's config has}; an override no config has is an error."""
    loaded = {part: load_config(path, interpolate=False) for part, path in configs.items() if Path(path).exists()}
    routed: dict[str, dict] = {part: {} for part in configs}
    for key, value in overrides.items():
        owners = [part for part, config in loaded.items() if _has_setting(config, key)]
        if not owners:
            names = ", ".join(str(configs[part]) for part in loaded)
            raise WorkbenchError(f"no such option: --{key} (not a setting of {names})")
        for part in owners:
            routed[part][key] = value
    return routed
