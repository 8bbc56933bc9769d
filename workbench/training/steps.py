"""The training step each saved checkpoint was taken at, so cross-validation can tell a final model how long to train.

spaCy keeps the best checkpoint (model-best) but not the step it came from. The
`workbench.record_step.v1` before-update callback writes the step of every update into
`nlp.meta["workbench_step"]`; a checkpoint saved after an evaluation carries the step it was
evaluated at. A final model trained on every gold document has no dev documents left to
pick its checkpoint, so it trains for the median of the folds' best steps.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Callable

from spacy.language import Language
from spacy.util import registry

META_KEY = "workbench_step"


@registry.callbacks("workbench.record_step.v1")
def create_record_step() -> Callable[[Language, dict], None]:
    def record_step(nlp: Language, args: dict) -> None:
        nlp.meta[META_KEY] = args["step"]

    return record_step


def checkpoint_step(model_dir: str | Path) -> int | None:
    """The step a saved checkpoint was taken at; None for a model trained without the callback."""
    meta = json.loads((Path(model_dir) / "meta.json").read_text(encoding="utf-8"))
    step = meta.get(META_KEY)
    return step if isinstance(step, int) else None


def median_step(steps: list[int]) -> int:
    """The median of the folds' best steps, rounded half up to a whole step (at least 1)."""
    return max(1, int(statistics.median(steps) + 0.5))
