"""Start the relation component's own tok2vec from a base model's trained one (a spaCy `[initialize] after_init` callback).

A relation model trained on a few hundred sentences learns its encoder from those alone.
The base model's `tok2vec` was trained for tagging and parsing on far more text, so its
token vectors already carry syntax. Copying its weights, then fine-tuning the copy with
the relation model, gives the relation component that knowledge while it keeps an
encoder of its own: the NER in front of it stays free to be any model.
"""

from __future__ import annotations

from typing import Callable

import spacy
from spacy.language import Language
from spacy.util import registry

from workbench.errors import WorkbenchError


@registry.callbacks("workbench.base_tok2vec.v1")
def create_base_tok2vec(base_model: str | None, source: str = "tok2vec", target: str = "relation_extractor") -> Callable[[Language], Language]:
    """base_model null: nothing is copied (training from scratch)."""

    def copy_base_tok2vec(nlp: Language) -> Language:
        if base_model:
            copy_tok2vec_weights(base_model, source, nlp.get_pipe(target).model.get_ref("tok2vec"))
        return nlp

    return copy_base_tok2vec


def copy_tok2vec_weights(base_model: str, source: str, tok2vec) -> None:
    """Load the base model's `source` component and copy its encoder's weights into `tok2vec` (same architecture)."""
    base = spacy.load(base_model)
    if source not in base.pipe_names:
        raise WorkbenchError(f"the base model has no {source!r} component to start the relation encoder from", path=base_model)
    weights = base.get_pipe(source).model
    try:
        tok2vec.from_bytes(weights.to_bytes())
    except ValueError as exc:
        raise WorkbenchError(
            f"the relation component's tok2vec does not match the base model's {source!r} "
            f"(same embed attrs, rows, width and depth are needed): {exc}",
            path=base_model,
        ) from None
