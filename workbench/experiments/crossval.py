"""Cross-validation by document: folds of corpus groups, each fold one trial (experiments.trial), pooled, scored once.

With 5 to 50 gold documents one test article gives no interval at all. Here every gold
document is held out once: each fold trains the NER -> REL pipeline on the other folds and
predicts its own documents, and the held-out predictions of all folds are pooled and scored
once, as `workbench evaluate` scores, with bootstrap intervals over every document.

Folds are made of corpus groups (near-duplicates and keep_together articles, as the corpus
store records them), so no held-out document has a twin in its fold's training data. They
are seeded: the same gold, corpus, K and seed give the same folds.

Checkpoint and thresholds never look at a fold's held-out documents. By default the next
fold (cyclically) is the fold's inner dev set: spaCy picks the best checkpoint on it and the
relation thresholds are tuned on it (where it has enough gold relations of a type), as
`train all` does with the dev split; the fold trains on the remaining folds. With
`select_on_train` there is no inner dev: each fold trains on all other folds, picks its
checkpoint on its own training documents and keeps the config's thresholds (not tuned).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm import tqdm

from workbench.annotations.validate import check_gold
from workbench.corpus.store import Corpus
from workbench.errors import WorkbenchError
from workbench.evaluation.baselines import Baseline
from workbench.evaluation.evaluate import TASKS, Evaluation, SystemScores
from workbench.evaluation.provenance import describe_provenance
from workbench.evaluation.report import Report, write_report
from workbench.experiments.pooled_thresholds import pooled_threshold_report
from workbench.experiments.trial import Scoring, Trial, TrialDocuments, TrialFolders, run_trial
from workbench.fileio import replace_dir, sha256_of_files, staging_dir
from workbench.labels import load_labels
from workbench.metrics import METRICS, BootstrapSettings, Counts, pct, pct_ci
from workbench.records import AnnotatedDoc
from workbench.relations.reach import Reach
from workbench.training.pipeline import PipelineSpec
from workbench.words import count

MAX_LEAVE_ONE_GROUP_OUT = 10
DEFAULT_FOLDS = 5
# Which candidates the pooled thresholds are cut on, as the report says it.
END_TO_END = "end to end: every candidate between the predicted entities, judged as strict end-to-end scoring judges it"


@dataclass(frozen=True)
class Fold:
    """One fold: the documents it holds out, trains on and selects its checkpoint on (`dev`, empty: none)."""

    number: int  # from 1
    groups: tuple[str, ...]
    held_out: tuple[str, ...]
    train: tuple[str, ...]
    dev: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"fold": self.number, "groups": list(self.groups), "held_out": list(self.held_out), "train": list(self.train), "dev": list(self.dev)}


@dataclass
class FoldResult:
    fold: Fold
    evaluation: Evaluation
    thresholds: dict | None  # train_pipeline's tuning report; None when not tuned
    train_seconds: dict
    model_meta: dict  # the fold pipeline's meta.json: base model, configs, training data
    steps: dict  # {part: the step of the checkpoint its inner dev chose}; a final model trains for their median

    @classmethod
    def of(cls, fold: Fold, trial: Trial) -> "FoldResult":
        """What the report needs of a fold's trial; the loaded model itself is not kept."""
        pipeline = trial.pipeline
        return cls(fold, trial.evaluation, pipeline.thresholds, pipeline.train_seconds, dict(trial.nlp.meta), pipeline.steps)


@dataclass(frozen=True)
class CrossvalSettings:
    folds: int | None = None  # None: one per group up to 10 groups, else 5
    seed: int = 0
    select_on_train: bool = False
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    baselines: bool = True
    html: bool = True


@dataclass(frozen=True)
class CrossvalResult:
    output: Path
    metrics: dict
    paths: dict


# --- folds -----------------------------------------------------------------------------------


def default_fold_count(n_groups: int) -> int:
    """Leave one group out up to 10 groups; 5 folds beyond."""
    return n_groups if n_groups <= MAX_LEAVE_ONE_GROUP_OUT else DEFAULT_FOLDS


def assign_folds(groups: dict[str, list[str]], k: int, seed: int = 0) -> list[list[str]]:
    """k lists of group names, no group split, every fold non-empty, documents spread evenly.

    Largest groups first (ties in a seeded order), each to the fold with the fewest documents so
    far (ties: the lower fold). The first k groups land in k empty folds, so none stays empty.
    """
    if k < 2:
        raise WorkbenchError(f"cross-validation needs at least 2 folds, got --folds {k}")
    if k > len(groups):
        raise WorkbenchError(
            f"--folds {k} is more than the {count(len(groups), 'group')} of gold documents "
            "(near-duplicates and keep_together articles form one group and stay in one fold)"
        )
    order = sorted(groups, key=lambda name: hashlib.sha256(f"{seed}:{name}".encode("utf-8")).hexdigest())
    order.sort(key=lambda name: -len(groups[name]))  # stable: equal sizes keep the seeded order
    folds: list[list[str]] = [[] for _ in range(k)]
    sizes = [0] * k
    for name in order:
        target = min(range(k), key=lambda i: (sizes[i], i))
        folds[target].append(name)
        sizes[target] += len(groups[name])
    return folds


def make_folds(doc_groups: dict[str, str], k: int | None = None, seed: int = 0, select_on_train: bool = False) -> list[Fold]:
    """The folds of these documents (doc_id -> group); see the module docstring for dev."""
    groups: dict[str, list[str]] = {}
    for doc_id in sorted(doc_groups):
        groups.setdefault(doc_groups[doc_id], []).append(doc_id)
    k = default_fold_count(len(groups)) if k is None else k
    parts = assign_folds(groups, k, seed)
    if not select_on_train and k < 3:
        raise WorkbenchError(
            f"with {k} folds no fold is left to be an inner dev set beside the training folds; "
            "use 3 or more folds, or --select-on-train"
        )
    held = [tuple(sorted(d for name in part for d in groups[name])) for part in parts]
    folds = []
    for i, part in enumerate(parts):
        dev_fold = None if select_on_train else (i + 1) % k
        train = tuple(sorted(d for j, docs in enumerate(held) if j not in (i, dev_fold) for d in docs))
        dev = () if dev_fold is None else held[dev_fold]
        folds.append(Fold(i + 1, tuple(sorted(part)), held[i], train, dev))
    return folds


# --- pooling ---------------------------------------------------------------------------------


def concat_scores(parts: list[SystemScores]) -> SystemScores:
    """Per-document counts of several folds as one list: pooled scores are their sum, intervals resample them."""
    def joined(attr: str):
        lists = [getattr(part, attr) for part in parts]
        return None if any(values is None for values in lists) else [s for values in lists for s in values]

    return SystemScores(joined("ner"), joined("rel"), joined("rel_gold_entities"))


def _pool_threshold_cells(evaluations: list[Evaluation], notes: list[str]) -> tuple[dict, dict, dict] | None:
    """Every fold's candidate scores on its held-out documents; a threshold only where all folds agree."""
    cells_per_fold = [e.threshold_cells for e in evaluations]
    if any(c is None for c in cells_per_fold):
        return None
    cells, n_gold = _pool_cells([(fold_cells, fold_gold) for fold_cells, fold_gold, _ in cells_per_fold])
    thresholds = {}
    for label in cells:
        values = {fold_thresholds.get(label) for _, _, fold_thresholds in cells_per_fold}
        if len(values) == 1 and None not in values:
            thresholds[label] = values.pop()
        else:
            notes.append(f"the folds chose different {label} thresholds (see Cross-validation); the threshold plot marks none")
    return cells, n_gold, thresholds


def _pool_cells(parts: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    """Several folds' ({type: [(score, is_gold)]}, {type: gold relations}) as one."""
    cells: dict = {}
    n_gold: dict = {}
    for fold_cells, fold_gold in parts:
        for label, scored in fold_cells.items():
            cells.setdefault(label, []).extend(scored)
        for label, n in fold_gold.items():
            n_gold[label] = n_gold.get(label, 0) + n
    return cells, n_gold


def _pool_baselines(evaluations: list[Evaluation]) -> dict:
    pooled = {}
    for name in evaluations[0].baselines:
        per_fold = [e.baselines.get(name) for e in evaluations]
        if any(b is None for b in per_fold):
            continue
        model_ner = None
        if all(b.model_ner is not None for b in per_fold):
            model_ner = [s for b in per_fold for s in b.model_ner]
        description = per_fold[0].description
        if name == "gazetteer":
            description = f"built in each fold from that fold's training documents only; fold 1: {description}"
        pooled[name] = Baseline(description, per_fold[0].labels, concat_scores([b.scores for b in per_fold]), model_ner)
    return pooled


def pool_evaluations(evaluations: list[Evaluation], model: str) -> Evaluation:
    """One evaluation of every fold's held-out predictions, as if one model had predicted them all."""
    if not evaluations:
        raise WorkbenchError("no folds to pool")
    notes: list[str] = []
    for evaluation in evaluations:
        notes += [note for note in evaluation.notes if note not in notes]
    threshold_cells = _pool_threshold_cells(evaluations, notes)
    end_to_end = [e.end_to_end_cells for e in evaluations]
    reaches = [e.reach for e in evaluations]
    return replace(
        evaluations[0],
        model=model,
        split=None,
        doc_ids=[d for e in evaluations for d in e.doc_ids],
        scores=concat_scores([e.scores for e in evaluations]),
        errors=[x for e in evaluations for x in e.errors],
        outcomes=[o for e in evaluations for o in e.outcomes],
        relation_errors=[x for e in evaluations for x in e.relation_errors],
        threshold_cells=threshold_cells,
        end_to_end_cells=None if None in end_to_end else _pool_cells(end_to_end),
        reach=None if None in reaches else Reach.combine(reaches),
        baselines=_pool_baselines(evaluations),
        notes=notes,
    )


def _micro(headlines: dict) -> dict:
    """{task: micro counts and P/R/F1} of one fold's headlines."""
    return {task: headline.micro for task, headline in headlines.items()}


def _defined(metric: str, micro: dict) -> bool:
    """Whether a fold's figure is defined, by its counts (metrics.Counts); an undefined figure is no spread."""
    return getattr(Counts(micro["tp"], micro["fp"], micro["fn"]), metric) is not None


def fold_spread(folds: list[dict]) -> dict:
    """{task: {metric: {min, max, mean, sd, folds}}} over the folds where the figure is defined (sd: sample, None for one)."""
    spread: dict = {}
    for task in TASKS:
        if not all(task in fold for fold in folds):
            continue
        spread[task] = {}
        for metric in METRICS:
            values = [fold[task][metric] for fold in folds if _defined(metric, fold[task])]
            spread[task][metric] = None if not values else {
                "min": round(min(values), 6),
                "max": round(max(values), 6),
                "mean": round(statistics.fmean(values), 6),
                "sd": round(statistics.stdev(values), 6) if len(values) > 1 else None,
                "folds": len(values),
            }
    return spread


def fold_metrics(result: FoldResult) -> dict:
    entry = {**result.fold.to_dict(), **_micro(result.evaluation.headlines()), "train_seconds": result.train_seconds, "best_step": result.steps}
    if result.thresholds is not None:
        per_type = result.thresholds["per_type"]
        entry["thresholds"] = {label: round(row["threshold"], 6) for label, row in per_type.items()}
        entry["thresholds_tuned"] = [label for label, row in per_type.items() if row["changed"]]
        # In words, tuned or kept and why (tune_thresholds' note); a report written before notes existed has none.
        entry["threshold_notes"] = {label: row.get("note", "") for label, row in per_type.items()}
    gazetteer = result.evaluation.baselines.get("gazetteer")
    if gazetteer is not None:
        entry["gazetteer"] = _micro(gazetteer.headlines(result.evaluation.scheme, result.evaluation.bootstrap))
    return entry


# --- running ---------------------------------------------------------------------------------


def run_fold(
    fold: Fold, records: dict[str, AnnotatedDoc], spec: PipelineSpec, fold_dir: Path, work: Path, settings: CrossvalSettings
) -> FoldResult:
    """One trial: DocBins to fold_dir, training in `work` (deleted after), scored on the fold's held-out documents."""
    def docs(ids: tuple[str, ...]) -> list[AnnotatedDoc]:
        return [records[d] for d in ids]

    documents = TrialDocuments(docs(fold.train), docs(fold.dev), docs(fold.held_out))
    scoring = Scoring(f"fold {fold.number}", None, settings.bootstrap, settings.baselines)
    try:
        trial = run_trial(spec, documents, TrialFolders(fold_dir, work / "runs", work / "pipeline"), scoring)
        keep_patterns(trial.pipeline.path, fold_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return FoldResult.of(fold, trial)


def keep_patterns(model: Path, fold_dir: Path) -> None:
    """The fold's span-ruler patterns (made from its training documents) beside its DocBins, to be read after the model is gone."""
    patterns = model / "span_ruler" / "patterns"
    if patterns.exists():
        shutil.copyfile(patterns, fold_dir / "patterns.jsonl")


def selection_note(settings: CrossvalSettings, spec: PipelineSpec) -> str:
    if settings.select_on_train:
        return (
            "each fold trains on all other folds and picks its checkpoint on its own training documents (optimistic for the "
            "checkpoint, never the held-out ones); relation thresholds are the config's, not tuned"
        )
    tuned = "not tuned (--no-tune)" if not spec.tune else (
        f"tuned on the inner dev fold for types with at least {spec.min_dev_support} gold relations there, else the config's"
    )
    return (
        "each fold holds out one fold, picks its checkpoint on the next fold (its inner dev set) and trains on the rest; "
        f"relation thresholds: {tuned}"
    )


def run_crossval(gold_paths: list[str | Path], corpus: str | Path, output: str | Path, spec: PipelineSpec, settings: CrossvalSettings) -> CrossvalResult:
    """Make the folds, train and score each, pool them and write metrics.json, report.md and report.html to `output`.

    Everything is written to a staging folder first: an earlier report at `output` is replaced
    only when the whole run succeeded.
    """
    output = Path(output)
    corpus = Corpus.open(corpus)
    scheme = load_labels(spec.labels)
    # The same check as `workbench data`: gold that breaks the scheme or the corpus is not trained on.
    records = {r.doc_id: r for r in check_gold([Path(p) for p in gold_paths], scheme, corpus)}
    if not records:
        raise WorkbenchError(f"no gold documents in {', '.join(map(str, gold_paths))}")
    groups = corpus.groups()
    folds = make_folds({d: groups[d] for d in records}, settings.folds, settings.seed, settings.select_on_train)
    stage = staging_dir(output)
    try:
        results = []
        for fold in tqdm(folds, desc="cross-validation", unit="fold"):
            fold_dir = stage / "folds" / f"fold-{fold.number}"
            results.append(run_fold(fold, records, spec, fold_dir, stage / ".work", settings))
        model = f"{len(folds)}-fold cross-validation, {spec.starts_from}"
        pooled = pool_evaluations([r.evaluation for r in results], model)
        # Every fold trains the same spec; the last fold's record stands for the configs and base
        # model. Each fold trains on other documents, so training is described per fold.
        pooled.provenance = describe_provenance(model, results[-1].model_meta, gold_paths)
        # Each fold chose its checkpoint and thresholds on training or inner-dev documents, never on those it scored.
        pooled.note_selection_documents([])
        pooled.provenance["training"] = {
            "documents": "per fold, the other folds (see folds)",
            "docbin": "folds/fold-N/train.spacy",
            "sha256": "per fold",
            "gold": pooled.provenance["gold"]["paths"],
            "gold_sha256": pooled.provenance["gold"]["sha256"],
        }
        fold_entries = [fold_metrics(r) for r in results]
        extra = {
            "crossval": {
                "folds": len(folds),
                "seed": settings.seed,
                "selection": selection_note(settings, spec),
                **spec.describe(),
                # What a final model (`workbench train final`) must train with to be the model this measured.
                "labels_sha256": sha256_of_files([spec.labels]),
                "spread": fold_spread(fold_entries),
            },
            "folds": fold_entries,
        }
        if all(r.evaluation.end_to_end_cells is not None for r in results):
            # Cut where the final model's thresholds act: on the candidates between the predicted entities.
            fold_cells = [(*r.evaluation.end_to_end_cells, r.evaluation.threshold_cells[2]) for r in results]
            extra["crossval"]["pooled_thresholds"] = pooled_threshold_report(
                fold_cells, spec.min_dev_support, spec.target_precision, END_TO_END
            )
        paths = write_report(pooled, stage, html=settings.html, extra_metrics=extra, extra_section=fold_section)
        metrics = json.loads(paths["metrics"].read_text(encoding="utf-8"))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    replace_dir(stage, output)
    return CrossvalResult(output, metrics, {key: output / Path(path).name for key, path in paths.items()})


# --- report ----------------------------------------------------------------------------------


def _range(spread: dict | None) -> str:
    if not spread:
        return "–"
    sd = f", sd {pct(spread['sd'])}" if spread["sd"] is not None else ""
    return f"{pct(spread['min'])}–{pct(spread['max'])} (mean {pct(spread['mean'])}{sd})"


def fold_section(report: Report, metrics: dict) -> None:
    """The folds, their figures beside the pooled one, and how each fold chose its checkpoint and thresholds."""
    crossval, folds = metrics["crossval"], metrics["folds"]
    report.h(2, f"Cross-validation: {count(crossval['folds'], 'fold')}")
    documents = count(metrics["documents"], "document")
    intervals = f"with intervals over all {documents}" if metrics["bootstrap"]["intervals"] else f"all {documents} together"
    report.p(
        f"Every gold document was held out once and predicted by the model of its fold, which never saw it; the "
        f"held-out predictions of all folds are pooled and scored once below, {intervals}. Folds are made of corpus "
        f"groups (near-duplicates and keep_together articles stay in one fold), seed {crossval['seed']}. "
        f"Checkpoint and thresholds: {crossval['selection']}. Each fold trains a smaller model than one trained on all "
        "documents would be, so these figures lean pessimistic."
    )
    tasks = [task for task in TASKS if task in metrics["folds"][0]]
    titles = {"ner": "NER", "rel": "REL end to end", "rel_gold_entities": "REL on gold entities"}
    header = ["fold", "held out", "trained on", "inner dev", *(f"{titles[t]} P / R / F1" for t in tasks)]

    def prf(micro: dict, ci: dict | None = None) -> str:
        ci = ci or {}
        return " / ".join(pct_ci(micro[m], ci.get(m)) if _defined(m, micro) else "–" for m in METRICS)

    rows = [
        [str(f["fold"]), ", ".join(f["held_out"]), str(len(f["train"])), str(len(f["dev"])) if f["dev"] else "none",
         *(prf(f[t]) for t in tasks)]
        for f in folds
    ]
    pooled = {"ner": metrics["ner"], "rel": metrics.get("rel"), "rel_gold_entities": (metrics.get("rel") or {}).get("gold_entities")}
    rows.append(["**pooled**", count(metrics["documents"], "document"), "", "",
                 *(f"**{prf(pooled[t]['micro'], (pooled[t].get('ci') or {}).get('micro'))}**" for t in tasks)])
    spread = crossval["spread"]
    for metric in METRICS:
        rows.append([f"fold {metric}: range", "", "", "", *(_range(spread.get(t, {}).get(metric)) for t in tasks)])
    report.table(header, rows, "llrr" + "r" * len(tasks))
    report.p(
        "Pooled figures sum the counts of all folds, so a fold with more entities weighs more; the range shows how "
        "far single folds differ (– : undefined, no prediction or no gold item in that fold)."
    )
    if any("thresholds" in f for f in folds):
        report.p("Relation thresholds each fold ran with, tuned on its inner dev fold or kept:")
        report.table(
            ["fold", "type", "threshold", "how"],
            [[str(f["fold"]), label, f"{value:.3f}", (f.get("threshold_notes") or {}).get(label) or ("tuned" if label in f["thresholds_tuned"] else "kept")]
             for f in folds if "thresholds" in f for label, value in f["thresholds"].items()],
            "llrl",
        )
    if "pooled_thresholds" in crossval:
        pooled_threshold_section(report, crossval["pooled_thresholds"])
    if any("gazetteer" in f for f in folds):
        report.p("Gazetteer baseline per fold (NER P / R / F1), built from that fold's training documents only: " + "; ".join(
            f"fold {f['fold']} {prf(f['gazetteer']['ner'])}" for f in folds if "gazetteer" in f
        ) + ".")
    seconds = sum(f["train_seconds"]["total"] for f in folds)
    report.p(f"Training time, all folds: {seconds:.0f} s.")


def pooled_threshold_section(report: Report, pooled: dict) -> None:
    """The thresholds recommended from the pooled out-of-fold scores, apart from the figures above."""
    report.h(3, "Relation thresholds recommended from the pooled out-of-fold scores")
    report.p(
        f"Every fold's relation scores on its held-out documents, pooled ({pooled['scored_on']}); a cut per type "
        f"({pooled['objective']}) where the pooled folds have at least {pooled['min_support']} gold relations of it. "
        f"This is {pooled['caveat']}. The figures above are the folds as they ran. The last row sums the types; at the "
        "nested cuts (a type without a recommendation as run) it estimates a model running at the recommended thresholds."
    )

    def prf(figures: dict | None) -> str:
        return "–" if figures is None else " / ".join(pct(figures[m]) for m in METRICS)

    rows = [
        [label, str(row["support"]), "–" if row["recommended"] is None else f"{row['recommended']:.3f}",
         prf(row["as_run"]), prf(row["on_pooled"]), prf(row["nested"]), row["note"]]
        for label, row in pooled["per_type"].items()
    ]
    total = pooled["all_types"]
    rows.append(["**all types**", str(total["as_run"]["gold"]), "", f"**{prf(total['as_run'])}**", "", f"**{prf(total['nested'])}**", ""])
    header = ["type", "pooled support", "recommended", "as run P / R / F1", "on pooled (optimistic)", "nested", "note"]
    report.table(header, rows, "lrrrrrl")
