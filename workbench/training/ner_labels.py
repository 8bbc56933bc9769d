"""Make a sourced NER predict exactly the label scheme's labels (a spaCy `[initialize] after_init` callback).

A NER sourced from a base model keeps the base model's output layer: its 18 OntoNotes
labels, say. Fine-tuning then has three kinds of label to deal with:

- labels the scheme shares with the base model (PERSON, GPE, ...) go on from its weights;
- a scheme label mapped to a base label of another name (`base_label: PERSON` for
  CoNLL04's Peop) is added and starts as a copy of that label's output rows;
- new labels (ROLE) are added with fresh rows;
- base labels outside the scheme (CARDINAL, MONEY, ...) are switched off: their output
  rows get no weight and a large negative bias, so the transition system never picks them.

Switching off is done in the weights, not by a filter component after the NER, so the
saved pipeline is an ordinary spaCy NER that `spacy.load` reads anywhere, and the freed
labels cannot take tokens away from the scheme's labels during decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from spacy.language import Language
from spacy.util import registry

from workbench.labels import load_labels

# Low enough that no hidden activation can lift the action above a real one, small
# enough to stay finite in float32 arithmetic.
OFF_BIAS = -1.0e4
ENTITY_ACTIONS = ("B", "I", "L", "U")


@dataclass(frozen=True)
class LabelPlan:
    """What happens to each label of a sourced NER."""

    kept: tuple[str, ...]  # scheme labels the base model already has
    copied: dict  # scheme label -> the base label whose rows it starts from
    added: tuple[str, ...]  # scheme labels with fresh rows
    switched_off: tuple[str, ...]  # base labels outside the scheme


def plan_labels(base_labels: list[str], scheme) -> LabelPlan:
    base = set(base_labels)
    kept, copied, added = [], {}, []
    for name, label in scheme.entities.items():
        source = getattr(label, "base_label", None)
        if name in base and source in (None, name):
            kept.append(name)
        elif source and source in base:
            copied[name] = source
        else:
            added.append(name)
    used = set(kept) | set(copied.values())
    switched_off = tuple(sorted(label for label in base if label not in used and label not in scheme.entities))
    return LabelPlan(tuple(kept), copied, tuple(added), switched_off)


def _upper_params(model):
    upper = model.get_ref("upper")
    return upper, upper.get_param("W"), upper.get_param("b")


def apply_label_plan(ner, plan: LabelPlan) -> None:
    """Add, copy and switch off labels in the NER's output layer (and its rehearsal copy, if any)."""
    for label in (*plan.copied, *plan.added):
        ner.add_label(label)
    if not plan.copied and not plan.switched_off:
        return  # a NER trained from nothing: no rows to copy or switch off (and maybe no `upper` layer)
    models = [ner.model]
    if getattr(ner, "_rehearsal_model", None) not in (None, True, False):
        models.append(ner._rehearsal_model)
    index = {ner.moves.get_class_name(i): i for i in range(ner.moves.n_moves)}
    for model in models:
        upper, W, b = _upper_params(model)
        W, b = W.copy(), b.copy()
        # spaCy masks a class it has never seen in training; a copied label has been seen
        # under its base name, so it is live from the first step.
        unseen = model.attrs.get("unseen_classes", set())
        for target, source in plan.copied.items():
            for action in ENTITY_ACTIONS:
                W[index[f"{action}-{target}"]] = W[index[f"{action}-{source}"]]
                b[index[f"{action}-{target}"]] = b[index[f"{action}-{source}"]]
                unseen.discard(index[f"{action}-{target}"])
        for label in (*plan.switched_off, *plan.copied.values()):
            if label in plan.kept:
                continue
            for action in ENTITY_ACTIONS:
                W[index[f"{action}-{label}"]] = 0.0
                b[index[f"{action}-{label}"]] = OFF_BIAS
        upper.set_param("W", W)
        upper.set_param("b", b)


def predictable_labels(ner) -> list[str]:
    """The labels the NER can still output: those whose actions are not switched off."""
    _, _, b = _upper_params(ner.model)
    labels = set()
    for i in range(ner.moves.n_moves):
        name = ner.moves.get_class_name(i)
        action, _, label = name.partition("-")
        if action in ENTITY_ACTIONS and label and float(b[i]) > OFF_BIAS / 2:
            labels.add(label)
    return sorted(labels)


@registry.callbacks("workbench.scheme_ner_labels.v1")
def create_scheme_ner_labels(labels_path: str, component: str = "ner") -> Callable[[Language], Language]:
    """after_init callback: fit the (sourced) NER's labels to the label config at `labels_path`."""
    def scheme_ner_labels(nlp: Language) -> Language:
        if component not in nlp.component_names:
            return nlp
        ner = nlp.get_pipe(component)
        apply_label_plan(ner, plan_labels(list(ner.labels), load_labels(labels_path)))
        return nlp

    return scheme_ner_labels
