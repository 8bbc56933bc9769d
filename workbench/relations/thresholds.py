"""Per-type decision thresholds tuned on dev docs: the most precise cut as good as the best dev F1, or the lowest threshold that reaches a target precision."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Sequence

from spacy.tokens import Doc

from workbench.docs import get_relations
from workbench.metrics import Counts, or_zero, relation_items
from workbench.records import AnnotatedDoc
from workbench.relations.signatures import relation_key


# How the default rule is named wherever a choice is reported.
ONE_SE_RULE = "highest cut within one standard error of the best dev F1"
ONE_SE_OBJECTIVE = "best F1, one-standard-error rule"


@dataclass
class ThresholdChoice:
    """A cut and the dev figures of keeping what scores at or above it; an undefined figure is 0 here, so cuts can be ranked."""

    threshold: float
    precision: float
    recall: float
    f1: float


def choose_threshold(
    scored: Sequence[tuple[float, bool]], n_gold: int, target_precision: float | None = None
) -> ThresholdChoice | None:
    """Pick a cut over (score, is_gold) candidate cells; None if no cut qualifies.

    Without a target precision: the highest cut whose dev F1 is within one standard error
    of the best dev F1 (Breiman's one-standard-error rule). A dev F1 curve is flat near its
    top, so the single best cut is often a low one chosen by noise; among cuts that dev
    cannot tell apart, the most precise one is kept. The standard error is that of a
    proportion of n_gold at the best F1, sqrt(F1 (1 - F1) / n_gold).
    n_gold counts every gold relation, found as a candidate or not, so recall is honest.
    A cut falls midway between the last score kept and the next one, so the choice does
    not sit on a dev score's edge.
    """
    cuts = _cuts(scored, n_gold)
    if target_precision is not None:
        # Thresholds only fall along the cuts: the last one that qualifies is the lowest.
        qualifying = [cut for cut in cuts if cut.precision >= target_precision]
        return qualifying[-1] if qualifying else None
    found = [cut for cut in cuts if cut.recall > 0]
    if not found:
        return None
    best = max(found, key=lambda cut: cut.f1)
    tolerance = math.sqrt(best.f1 * (1 - best.f1) / max(1, n_gold))
    return next(cut for cut in found if cut.f1 >= best.f1 - tolerance)


def _cuts(scored: Sequence[tuple[float, bool]], n_gold: int) -> list[ThresholdChoice]:
    """Every distinct cut, from the highest threshold down, with its P/R/F1."""
    ranked = sorted(scored, key=lambda item: -item[0])
    cuts = []
    tp = fp = 0
    for i, (score, is_gold) in enumerate(ranked):
        tp, fp = tp + bool(is_gold), fp + (not is_gold)
        following = ranked[i + 1][0] if i + 1 < len(ranked) else None
        if following == score:
            continue  # tied scores are kept or dropped together
        cuts.append(choice_at(score if following is None else (score + following) / 2, tp, fp, n_gold))
    return cuts


def score_at(scored: Sequence[tuple[float, bool]], n_gold: int, threshold: float) -> ThresholdChoice:
    """Precision, recall and F1 of keeping the cells scored at or above `threshold`."""
    kept = [is_gold for score, is_gold in scored if score >= threshold]
    return choice_at(threshold, sum(kept), len(kept) - sum(kept), n_gold)


def choice_at(threshold: float, tp: int, fp: int, n_gold: int) -> ThresholdChoice:
    counts = Counts(tp, fp, n_gold - tp)
    return ThresholdChoice(float(threshold), or_zero(counts.precision), or_zero(counts.recall), or_zero(counts.f1))


def tune_thresholds(
    component, docs_with_gold: Iterable[Doc], target_precision: float | None = None, min_support: int = 1
) -> dict:
    """Set the component's per-type thresholds from docs with gold ents and doc._.relations.

    The docs are not modified. A type with fewer than `min_support` gold relations (a cut
    tuned on a handful of examples fits those examples, not the type), or none reaching the
    target precision, keeps its threshold.
    Returns {type: {threshold, precision, recall, f1, support, changed, status, note}}: status is
    "tuned", "too_little_support" or "no_qualifying_cut"; note says it in words, e.g. "kept at
    the config's 0.5, not tuned (dev has 3 < 20 relations of this type)"; P/R/F1 are the dev
    figures at the threshold.
    """
    docs = list(docs_with_gold)
    cells, n_gold = scored_cells(component, docs, component.predict(docs))
    report = {}
    for label in component.labels:
        enough = n_gold[label] >= max(1, min_support)
        choice = choose_threshold(cells[label], n_gold[label], target_precision) if enough else None
        # Whether the threshold being kept is the config's or one set on this model before.
        source = "the model's earlier" if label in component.cfg.get("thresholds", {}) else "the config's"
        if choice is not None:
            component.set_threshold(label, choice.threshold)
        kept = choice or score_at(cells[label], n_gold[label], component.thresholds[label])
        status = "tuned" if choice is not None else "no_qualifying_cut" if enough else "too_little_support"
        note = threshold_note(status, kept.threshold, n_gold[label], max(1, min_support), target_precision, source)
        report[label] = {**asdict(kept), "support": n_gold[label], "changed": choice is not None, "status": status, "note": note}
    return report


def threshold_note(
    status: str, threshold: float, support: int, min_support: int, target_precision: float | None, source: str = "the config's"
) -> str:
    """One type's threshold choice in words; a kept threshold never reads as tuned."""
    if status == "tuned":
        rule = f"the {ONE_SE_RULE}" if target_precision is None else f"the lowest cut with dev precision >= {target_precision:g}"
        return f"tuned on dev to {rule} (dev has {support} relations of this type)"
    kept = f"kept at {source} {threshold:g}, not tuned"
    if status == "too_little_support":
        return f"{kept} (dev has {support} < {min_support} relations of this type)"
    if target_precision is None:
        return f"{kept} (no cut finds any of the {support} dev relations of this type)"
    return f"{kept} (no cut reaches dev precision {target_precision:g})"


def scored_cells(component, docs: list[Doc], scores: list) -> tuple[dict[str, list], dict[str, int]]:
    """Per type: (score, is_gold) for each candidate that type allows, and the number of gold relations.

    docs carry gold entities and gold relations (doc._.relations); scores are the component's
    predict() on them.
    """
    scheme = component.scheme
    gold = [{relation_key(scheme, r["head"], r["tail"], r["label"]) for r in get_relations(doc)} for doc in docs]
    return _cells(component.labels, scores, gold, lambda i, cand, label: (cand.head, cand.tail, label))


def end_to_end_cells(component, docs: list[Doc], scores: list, gold: list[AnnotatedDoc]) -> tuple[dict[str, list], dict[str, int]]:
    """scored_cells on docs with predicted entities, each candidate judged as `workbench evaluate` judges it end to end.

    A candidate is gold when both argument spans, their labels and the type are a gold relation's
    (metrics.relation_items). Cut at any thresholds, the cells give the end-to-end counts the
    component would have there: true positives are the gold cells kept, false positives the other
    cells kept, false negatives the gold relations less the true positives, so a gold relation whose
    arguments were not predicted is missed at every cut.
    """
    scheme = component.scheme

    def item(i: int, cand, label: str) -> tuple:
        head, tail = docs[i][cand.head[0] : cand.head[1]], docs[i][cand.tail[0] : cand.tail[1]]
        return scheme.ordered(label, (head.start_char, head.end_char, cand.head_label), (tail.start_char, tail.end_char, cand.tail_label)), label

    return _cells(component.labels, scores, [relation_items(record, scheme) for record in gold], item)


def _cells(labels, scores: list, gold: list, key: Callable) -> tuple[dict[str, list], dict[str, int]]:
    """(score, key(doc index, candidate, type) in that doc's gold) per allowed type; gold relations counted per type (a key's last element)."""
    labels = list(labels)
    cells: dict[str, list] = {label: [] for label in labels}
    n_gold = {label: 0 for label in labels}
    for i, ((candidates, probs), doc_gold) in enumerate(zip(scores, gold)):
        for gold_key in doc_gold:
            if gold_key[-1] in n_gold:
                n_gold[gold_key[-1]] += 1
        found = set(doc_gold)
        for row, cand in enumerate(candidates):
            for label in cand.allowed:
                cells[label].append((float(probs[row, labels.index(label)]), key(i, cand, label) in found))
    return cells, n_gold
