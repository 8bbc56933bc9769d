"""Relation thresholds recommended from cross-validation's pooled out-of-fold scores, with an honest estimate of them.

A small gold set has too few dev relations per type to tune on one dev split, but every
fold scores the candidates of its held-out documents: pooled, they are as many scored
candidates as there are gold documents. A cut per type where the pooled support reaches the
minimum is a recommendation for models trained like the folds; `train final` runs at it.
Crossval hands over the candidates between the predicted entities, judged end to end
(evaluate's end_to_end_cells), because that is where a final model's threshold acts: a cut
chosen there also weighs the relations the NER's mistakes bring.

Its pooled P/R/F1 are measured on the same scores the cut was chosen on, so they are
optimistic. Beside them stands a nested estimate, cheap because the scores are already
there: for each fold, a cut is chosen on the other folds' pooled scores (or the fold keeps
the threshold it ran with, when they have too little support) and applied to that fold's
scores; the counts are summed over the folds.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.metrics import Counts
from workbench.relations.thresholds import ONE_SE_OBJECTIVE, choose_threshold

# One fold's threshold cells as evaluate keeps them: ({type: [(score, is_gold)]}, {type: gold relations}, {type: threshold}).
FoldCells = tuple[dict, dict, dict]
# One fold's share of one type: its (score, is_gold) cells, its gold relations, and a threshold to apply.
Part = tuple[list, int, float]


@dataclass(frozen=True)
class PooledFigures:
    """Counts summed over folds, each fold cut at its own threshold (listed in fold order)."""

    thresholds: tuple[float, ...]
    tp: int
    fp: int
    gold: int

    def to_dict(self) -> dict:
        """Counts and P/R/F1 (metrics.Counts: precision with nothing kept and recall with no gold are None)."""
        figures = Counts(self.tp, self.fp, self.gold - self.tp).figures()
        return {"thresholds": [round(t, 6) for t in self.thresholds], "tp": self.tp, "fp": self.fp, "gold": self.gold, **figures}


@dataclass(frozen=True)
class PooledThreshold:
    """One type: pooled support, the recommended cut (None: none), and pooled figures three ways."""

    type: str
    support: int
    status: str  # "tuned" (a cut is recommended), "too_little_support" or "no_qualifying_cut", as in tune_thresholds
    note: str
    recommended: float | None
    as_run: PooledFigures  # every fold at the threshold it ran with
    on_pooled: PooledFigures | None  # every fold at the recommended cut, chosen on these same scores: optimistic
    nested: PooledFigures | None  # every fold at the cut chosen on the other folds' scores

    def to_dict(self) -> dict:
        figures = {k: None if v is None else v.to_dict() for k, v in (("as_run", self.as_run), ("on_pooled", self.on_pooled), ("nested", self.nested))}
        recommended = None if self.recommended is None else round(self.recommended, 6)
        return {"support": self.support, "status": self.status, "note": self.note, "recommended": recommended, **figures}


def _figures(parts: list[Part]) -> PooledFigures:
    tp = fp = 0
    for cells, _, threshold in parts:
        kept = [is_gold for score, is_gold in cells if score >= threshold]
        tp, fp = tp + sum(kept), fp + len(kept) - sum(kept)
    return PooledFigures(tuple(t for _, _, t in parts), tp, fp, sum(n for _, n, _ in parts))


def _choose(parts: list[Part], min_support: int, target_precision: float | None) -> float | None:
    """The cut chosen on these parts' pooled cells; None with too little support or no qualifying cut."""
    support = sum(n for _, n, _ in parts)
    if support < max(1, min_support):
        return None
    choice = choose_threshold([cell for cells, _, _ in parts for cell in cells], support, target_precision)
    return None if choice is None else choice.threshold


def pooled_thresholds(folds: list[FoldCells], min_support: int, target_precision: float | None = None) -> dict[str, PooledThreshold]:
    """Per type: a cut chosen on all folds' held-out scores where their pooled support >= min_support."""
    labels = list(dict.fromkeys(label for cells, _, _ in folds for label in cells))
    result = {}
    for label in labels:
        parts = [(cells.get(label, []), n_gold.get(label, 0), thresholds[label]) for cells, n_gold, thresholds in folds]
        support = sum(n for _, n, _ in parts)
        cut = _choose(parts, min_support, target_precision)
        on_pooled = nested = None
        if cut is not None:
            status = "tuned"
            rule = "highest cut within one standard error of the best F1" if target_precision is None else f"lowest cut with precision >= {target_precision:g}"
            note = f"recommended {cut:.3f} ({rule} on the pooled out-of-fold scores, {support} gold relations)"
            on_pooled = _figures([(cells, n, cut) for cells, n, _ in parts])
            nested_parts = []
            for i, (cells, n, own) in enumerate(parts):
                outer = _choose(parts[:i] + parts[i + 1 :], min_support, target_precision)
                nested_parts.append((cells, n, own if outer is None else outer))
            nested = _figures(nested_parts)
        elif support < max(1, min_support):
            status = "too_little_support"
            note = f"no recommendation, not tuned (the pooled folds have {support} < {min_support} relations of this type)"
        else:
            status = "no_qualifying_cut"
            note = "no recommendation, not tuned (no cut " + (
                "finds a pooled relation)" if target_precision is None else f"reaches pooled precision {target_precision:g})"
            )
        result[label] = PooledThreshold(label, support, status, note, cut, _figures(parts), on_pooled, nested)
    return result


CAVEAT = (
    "a recommendation for models trained like the folds (`workbench train final` runs at it). Its 'on pooled' figures are measured "
    "on the scores the cut was chosen on, so they are optimistic; 'nested' chooses each fold's cut on the other folds' "
    "scores only (a fold keeps its own threshold where they have too little support), an honest estimate of tuning this way"
)


def all_types(per_type: dict[str, PooledThreshold]) -> dict:
    """Counts summed over types, as run and nested (a type with no recommendation as run): the estimate of a model at the cuts."""
    def total(figures: list[PooledFigures]) -> dict:
        tp, fp, gold = (sum(getattr(f, a) for f in figures) for a in ("tp", "fp", "gold"))
        return {"tp": tp, "fp": fp, "gold": gold, **Counts(tp, fp, gold - tp).figures()}

    nested = {label: row.nested or row.as_run for label, row in per_type.items()}
    return {
        "as_run": total([row.as_run for row in per_type.values()]),
        "nested": total(list(nested.values())),
        "nested_per_type": {label: figures.to_dict() for label, figures in nested.items()},
    }


def pooled_threshold_report(folds: list[FoldCells], min_support: int, target_precision: float | None, scored_on: str) -> dict:
    """What crossval's metrics.json keeps under crossval.pooled_thresholds; scored_on says which candidates the cells are."""
    per_type = pooled_thresholds(folds, min_support, target_precision)
    return {
        "objective": ONE_SE_OBJECTIVE if target_precision is None else f"precision >= {target_precision}",
        "scored_on": scored_on,
        "min_support": min_support,
        "caveat": CAVEAT,
        "per_type": {label: row.to_dict() for label, row in per_type.items()},
        "all_types": all_types(per_type),
    }


def format_pooled_thresholds(report: dict) -> str:
    """Printed by `workbench crossval`: one line per type, the caveat first."""
    lines = [f"relation thresholds from the pooled out-of-fold scores ({report['scored_on']}): {report['caveat']}."]
    for label, row in report["per_type"].items():
        line = f"  {label}: {row['note']}"
        if row["recommended"] is not None:
            pooled, nested = row["on_pooled"], row["nested"]
            line += (f"; F1 as run {row['as_run']['f1']:.3f}, at the cut on pooled {pooled['f1']:.3f} (optimistic), "
                     f"nested {nested['f1']:.3f}")
        lines.append(line)
    total = report["all_types"]
    lines.append(f"  all types, as run: {_prf(total['as_run'])}; at the nested cuts: {_prf(total['nested'])}")
    return "\n".join(lines)


def _prf(figures: dict) -> str:
    values = [figures[m] for m in ("precision", "recall", "f1")]
    return "P / R / F1 " + " / ".join("–" if v is None else f"{v:.3f}" for v in values) + f" ({figures['tp']} of {figures['gold']} gold, {figures['fp']} false)"
