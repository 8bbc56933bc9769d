"""Document-level train/dev/test split that is deterministic and stable as the corpus grows.

Assignments are kept in a lock file (corpus/splits.json). An article that has a
split keeps it forever; only new groups of articles are assigned. New groups are
taken in an order fixed by a seeded hash of their ids. While a split with a
non-zero ratio is empty it gets the next group (train first, then test, then
dev), so that three groups already give one document to each split; after that
each group goes to the split furthest below its target ratio.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.fileio import write_json

SPLITS = ("train", "dev", "test")
_FILL_ORDER = ("train", "test", "dev")
log = logging.getLogger(__name__)


def load_assignments(path: str | Path) -> dict[str, str]:
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        assignments = data["assignments"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise WorkbenchError(f"not a splits file ({exc})", path=path) from None
    bad = {k: v for k, v in assignments.items() if v not in SPLITS}
    if bad:
        raise WorkbenchError(f"unknown split names: {bad}", path=path)
    return dict(assignments)


def save_assignments(path: str | Path, assignments: dict[str, str], ratios: dict[str, float], seed: int) -> None:
    write_json(
        path,
        {
            "comment": "Lock file of the document split: an article never changes split. Written by `workbench corpus build`.",
            "seed": seed,
            "ratios": ratios,
            "assignments": dict(sorted(assignments.items())),
        },
    )


def check_ratios(ratios: dict[str, float]) -> dict[str, float]:
    if set(ratios) != set(SPLITS) or any(r < 0 for r in ratios.values()):
        raise WorkbenchError(f"split ratios must give train, dev and test, none negative: {ratios}")
    total = sum(ratios.values())
    if total <= 0:
        raise WorkbenchError("split ratios add up to zero")
    return {name: ratios[name] / total for name in SPLITS}


def _order_key(members: list[str], seed: int) -> str:
    return hashlib.sha256(f"{seed}:{members[0]}".encode("utf-8")).hexdigest()


def assign_splits(
    groups: dict[str, list[str]], previous: dict[str, str], ratios: dict[str, float], seed: int = 0
) -> dict[str, str]:
    """Return a split for every id in `groups`; ids in `previous` keep theirs."""
    ratios = check_ratios(ratios)
    assignments = {doc_id: split for doc_id, split in previous.items()}
    counts = {name: 0 for name in SPLITS}
    for split in assignments.values():
        counts[split] += 1

    new_groups = []
    for members in groups.values():
        old = {assignments[m] for m in members if m in assignments}
        if not old:
            new_groups.append(members)
            continue
        # A group already (partly) placed pulls its new members into its split.
        # If a new article links groups placed in different splits, nothing old
        # moves: the new ones join the split holding most of the group.
        target = max(sorted(old), key=lambda s: sum(1 for m in members if assignments.get(m) == s))
        if len(old) > 1:
            log.warning("group %s spans splits %s; stable split wins, new articles go to %s", members, sorted(old), target)
        for m in members:
            if m not in assignments:
                assignments[m] = target
                counts[target] += 1

    for members in sorted(new_groups, key=lambda m: _order_key(m, seed)):
        target = _next_split(counts, ratios)
        for m in members:
            assignments[m] = target
        counts[target] += len(members)
    return {doc_id: assignments[doc_id] for members in groups.values() for doc_id in members}


def _next_split(counts: dict[str, int], ratios: dict[str, float]) -> str:
    for name in _FILL_ORDER:
        if ratios[name] > 0 and counts[name] == 0:
            return name
    total = sum(counts.values()) + 1
    return max(SPLITS, key=lambda name: (ratios[name] * total - counts[name], -SPLITS.index(name)))
