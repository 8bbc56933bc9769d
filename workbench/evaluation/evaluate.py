"""Predict on held-out gold documents and score the predictions against the gold.

Counts are kept per document, so that intervals can resample documents; every figure
in metrics.json is computed from them, or from the same gold and predicted spans.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from spacy.tokens import Doc
from spacy.util import minibatch
from tqdm import tqdm

from workbench.annotation_files import read_gold
from workbench.corpus.store import Corpus
from workbench.docs import doc_to_record, gold_entity_docs
from workbench.errors import WorkbenchError
from workbench.evaluation.matching import (
    FN_CLASSES,
    FP_CLASSES,
    Span,
    confusion_matrix,
    error_class,
    semeval_schemes,
)
from workbench.labels import LabelScheme
from workbench.metrics import BootstrapSettings, LabelledScores, entity_items, relation_items, score_items, task_metrics
from workbench.records import AnnotatedDoc
from workbench.relations.reach import Reach, relation_reach
from workbench.relations.thresholds import end_to_end_cells, scored_cells

RELATION_CAUSES = ("entities", "relation_model")
# What an evaluation scores: entities, relations end to end, relations on the gold entities.
TASKS = ("ner", "rel", "rel_gold_entities")


@dataclass
class SpanError:
    """A false positive or false negative, with the sentence it sits in and why it is wrong."""

    doc_id: str
    kind: str  # "FP" or "FN"
    label: str
    start: int
    end: int
    text: str
    sentence: str
    error_class: str = ""  # boundary, label, boundary+label, spurious (FP) or missed (FN)


@dataclass
class RelationError:
    """An end-to-end relation false positive or false negative, and which step it comes from.

    cause "entities": an argument span was not predicted exactly (FN) or is not a gold entity
    (FP); "relation_model": both arguments were right, the relation decision was not.
    """

    doc_id: str
    kind: str
    type: str
    head: str
    tail: str
    cause: str


@dataclass(frozen=True)
class Headline:
    """One task's headline, as metrics.json has it: micro counts and P/R/F1, the macro means, the micro intervals."""

    micro: dict  # metrics.Counts.to_dict(): precision, recall, f1 (None where undefined), tp, fp, fn
    macro: dict  # precision, recall, f1
    ci: dict | None  # {metric: {lo, hi} or None}; None without intervals

    @classmethod
    def of(cls, scores: dict) -> "Headline":
        """From a task's entry of metrics.json (task_metrics)."""
        return cls(scores["micro"], scores["macro"], (scores.get("ci") or {}).get("micro"))


@dataclass
class SystemScores:
    """One system's strict counts per evaluated document: NER, relations end to end and on gold entities."""

    ner: list[LabelledScores]
    rel: list[LabelledScores] | None = None
    rel_gold_entities: list[LabelledScores] | None = None

    def headlines(self, labels: list[str], relation_types: list[str], bootstrap: BootstrapSettings) -> dict[str, Headline]:
        """{task: its headline} of the tasks scored."""
        per_task = {"ner": (self.ner, labels), "rel": (self.rel, relation_types), "rel_gold_entities": (self.rel_gold_entities, relation_types)}
        return {
            task: Headline.of(task_metrics(per_doc, task_labels, bootstrap))
            for task, (per_doc, task_labels) in per_task.items() if per_doc is not None
        }

    def metrics(self, labels: list[str], relation_types: list[str], bootstrap: BootstrapSettings) -> dict:
        metrics = {"ner": task_metrics(self.ner, labels, bootstrap)}
        if self.rel is not None:
            metrics["rel"] = {
                **task_metrics(self.rel, relation_types, bootstrap),
                "gold_entities": task_metrics(self.rel_gold_entities, relation_types, bootstrap),
            }
        return metrics


@dataclass
class DocOutcome:
    """One evaluated document: gold, prediction, and relations predicted on the gold entities."""

    gold: AnnotatedDoc
    predicted: AnnotatedDoc
    on_gold_entities: AnnotatedDoc | None = None


@dataclass
class Evaluation:
    model: str
    split: str | None
    doc_ids: list[str]
    scheme: LabelScheme
    scores: SystemScores
    errors: list[SpanError] = field(default_factory=list)
    outcomes: list[DocOutcome] = field(default_factory=list)
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    relation_errors: list[RelationError] = field(default_factory=list)
    # The relation model's scores on every candidate of the gold-entity docs: {type: [(score, is_gold)]},
    # the number of gold relations per type, and the model's per-type thresholds.
    threshold_cells: tuple[dict, dict, dict] | None = None
    # The same on the predicted entities, each candidate judged end to end (relations.thresholds.end_to_end_cells):
    # ({type: [(score, is_gold)]}, {type: gold relations}). Re-cut, they score the pipeline at other thresholds.
    end_to_end_cells: tuple[dict, dict] | None = None
    # The share of gold relations the model's candidate generator can reach at all (its recall ceiling).
    reach: Reach | None = None
    # Filled in by evaluation.baselines.run_baselines.
    baselines: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # What was scored against what (evaluation.provenance.describe_provenance); None: not recorded.
    provenance: dict | None = None
    # The evaluated documents the model trained on (its own provenance says so); empty: all held out.
    trained_on: list[str] = field(default_factory=list)
    # Whether evaluated documents chose the model's checkpoint and thresholds (note_selection_documents):
    # {"checked": bool, "documents": [those doc_ids] or None when the model does not say}; None: not asked.
    selection: dict | None = None

    @property
    def labels(self) -> list[str]:
        return self.scheme.entity_labels

    @property
    def relation_types(self) -> list[str]:
        return self.scheme.relation_types

    def mark_not_held_out(self, doc_ids: list[str]) -> None:
        """The model trained on these evaluated documents: no figure here is a held-out score."""
        self.trained_on = list(doc_ids)
        self.notes.insert(
            0,
            f"NOT HELD OUT: the model trained on {len(doc_ids)} of the {len(self.doc_ids)} evaluated documents "
            f"({', '.join(doc_ids)}), by its own provenance; every figure in this report is a training score, not an estimate "
            "of how it does on new documents",
        )

    def note_training_documents(self, corpus: Corpus | None) -> None:
        """Say which evaluated documents are in the corpus's training split: figures on them are optimistic."""
        if corpus is None:
            return
        train = [d for d in self.doc_ids if corpus.split_of(d) == "train" and d not in self.trained_on]
        if train:
            self.notes.append(
                f"{len(train)} of the {len(self.doc_ids)} evaluated documents are training documents "
                f"({', '.join(train)}): figures on them are optimistic, as the model (and the gazetteer baseline) learnt from them"
            )

    def note_selection_documents(self, chosen_on: list[str] | None) -> None:
        """Say which evaluated documents training chose the model's checkpoints (and relation thresholds) on.

        chosen_on: the documents it chose them on (the model's dev documents, provenance.selection_doc_ids);
        None when the model does not record them, which is said too.
        """
        what = "checkpoints and relation thresholds" if self.scores.rel is not None else "checkpoint"
        if chosen_on is None:
            self.selection = {"checked": False, "documents": None}
            self.notes.append(
                f"the model does not record the documents its {what} were chosen on (meta.json), so whether any "
                "evaluated document was among them cannot be checked"
            )
            return
        # A document the model trained on is marked so already (mark_not_held_out), more strongly.
        scored = [d for d in self.doc_ids if d in set(chosen_on) and d not in self.trained_on]
        self.selection = {"checked": True, "documents": scored}
        if scored:
            self.notes.append(
                f"{len(scored)} of the {len(self.doc_ids)} evaluated documents ({', '.join(scored)}) chose the model's "
                f"{what} in training (its dev documents): figures on them are optimistic. `workbench crossval` scores "
                "every gold document with a model that chose nothing on it"
            )

    @property
    def ner(self) -> LabelledScores:
        return LabelledScores.total(self.scores.ner)

    @property
    def rel(self) -> LabelledScores | None:
        """End to end: relations predicted on predicted entities."""
        return None if self.scores.rel is None else LabelledScores.total(self.scores.rel)

    @property
    def rel_gold_entities(self) -> LabelledScores | None:
        """The relation model alone: relations predicted on the gold entities."""
        return None if self.scores.rel_gold_entities is None else LabelledScores.total(self.scores.rel_gold_entities)

    def headlines(self) -> dict[str, Headline]:
        """{task: its headline} for the tasks scored (NER always; the two relation tasks with a relation model)."""
        return self.scores.headlines(self.labels, self.relation_types, self.bootstrap)

    def metrics(self) -> dict:
        metrics = {
            **({"provenance": self.provenance} if self.provenance is not None else {}),
            "split": self.split,
            "held_out": not self.trained_on,
            **({"trained_on": self.trained_on} if self.trained_on else {}),
            "documents": len(self.doc_ids),
            "document_ids": self.doc_ids,
            "model": self.model,
            "bootstrap": self.bootstrap.describe(len(self.doc_ids)),
            **self.scores.metrics(self.labels, self.relation_types, self.bootstrap),
        }
        pairs = [(spans_of(o.gold), spans_of(o.predicted)) for o in self.outcomes]
        metrics["ner"]["partial"] = semeval_schemes(pairs, self.labels)
        metrics["ner"]["errors"] = {
            kind: {name: sum(e.kind == kind and e.error_class == name for e in self.errors) for name in classes}
            for kind, classes in (("FP", FP_CLASSES), ("FN", FN_CLASSES))
        }
        metrics["ner"]["confusion"] = confusion_matrix(pairs, self.labels)
        if "rel" in metrics:
            metrics["rel"]["errors"] = relation_error_counts(self.relation_errors, self.relation_types)
            if self.reach is not None:
                metrics["rel"]["reach"] = self.reach.to_dict()
            if self.threshold_cells is not None:
                metrics["rel"]["thresholds"] = {k: round(v, 6) for k, v in self.threshold_cells[2].items()}
        if self.baselines:
            metrics["baselines"] = {
                name: baseline.metrics(self.scheme, self.bootstrap) for name, baseline in self.baselines.items()
            }
        if self.selection is not None:
            metrics["selection"] = self.selection
        if self.notes:
            metrics["notes"] = list(self.notes)
        return metrics


def select_gold(gold_paths: list[str | Path], split: str | list[str] | None, corpus: Corpus | None) -> list[AnnotatedDoc]:
    """The gold records (annotation_files.read_gold), or only those of the given corpus split(s)."""
    records = read_gold(gold_paths)
    splits = [split] if isinstance(split, str) else list(split or [])
    if not splits:
        return records
    if corpus is None:
        raise WorkbenchError("--split needs the corpus (run `workbench corpus build`)")
    missing = [r.doc_id for r in records if r.doc_id not in corpus]
    if missing:
        raise WorkbenchError(f"gold documents not in the corpus: {', '.join(missing)}")
    selected = [r for r in records if corpus.split_of(r.doc_id) in splits]
    if not selected:
        raise WorkbenchError(f"no gold document is in the {'+'.join(splits)!r} split")
    return selected


def spans_of(record: AnnotatedDoc) -> list[Span]:
    return sorted(Span(e.start, e.end, e.label) for e in record.entities)


@dataclass(frozen=True)
class GoldEntityRun:
    """The relation step alone on the gold entities: its predictions, its candidates' scores and its reach."""

    predicted: list[AnnotatedDoc]
    # {type: [(score, is_gold)]} over every candidate, gold relations per type, the model's thresholds.
    threshold_cells: tuple[dict, dict, dict]
    reach: Reach


def relations_on_gold_entities(nlp, gold: list[AnnotatedDoc]) -> GoldEntityRun:
    """Run only the relation step on the gold entities, to isolate the relation model.

    Also scores every candidate, with the gold answer, for the precision-threshold curve, and
    measures which gold relations its candidates reach at all (its scheme and window).
    """
    component = nlp.get_pipe("relation_extractor")
    docs = gold_entity_docs(nlp, gold)
    scores = component.predict(docs)
    # Cells and reach read the gold relations the docs carry, before the predictions replace them.
    cells, n_gold = scored_cells(component, docs, scores)
    reach = relation_reach(docs, component.scheme, component.max_distance)
    component.set_annotations(docs, scores)
    predicted = [doc_to_record(doc, record.doc_id) for doc, record in zip(docs, gold)]
    return GoldEntityRun(predicted, (cells, n_gold, dict(component.thresholds)), reach)


def pipe_with_relation_scores(nlp, texts: Iterable[str]) -> tuple[list[Doc], list]:
    """The pipeline's docs, and its relation component's scores of every candidate: the scores it set their relations from.

    One pass: the pipes before the relation component run as nlp.pipe runs them, the component
    predicts in batches and annotates from those same scores, and any pipe after it runs last.
    """
    names = nlp.pipe_names
    at = names.index("relation_extractor")
    component = nlp.get_pipe("relation_extractor")
    docs = list(nlp.pipe(texts, disable=names[at:]))
    scores = []
    for batch in minibatch(docs, size=nlp.batch_size):
        batch_scores = component.predict(batch)
        component.set_annotations(batch, batch_scores)
        scores += batch_scores
    for name in names[at + 1 :]:
        proc = nlp.get_pipe(name)
        docs = list(proc.pipe(docs)) if hasattr(proc, "pipe") else [proc(doc) for doc in docs]
    return docs, scores


def sentence_of(doc, start: int, end: int) -> str:
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not doc.has_annotation("SENT_START"):
        return doc.text[max(0, start - 80) : end + 80]
    return span.sent.text


def score_outcomes(outcomes: list[DocOutcome], scheme: LabelScheme) -> SystemScores:
    """Strict per-document counts for NER and, where there are relation predictions, relations."""
    ner = []
    for outcome in outcomes:
        ner.append(LabelledScores())
        score_items(entity_items(outcome.gold), entity_items(outcome.predicted), ner[-1])
    if not outcomes or outcomes[0].on_gold_entities is None:
        return SystemScores(ner)
    rel, rel_gold = [], []
    for outcome in outcomes:
        gold_rels = relation_items(outcome.gold, scheme)
        rel.append(LabelledScores())
        score_items(gold_rels, relation_items(outcome.predicted, scheme), rel[-1])
        rel_gold.append(LabelledScores())
        score_items(gold_rels, relation_items(outcome.on_gold_entities, scheme), rel_gold[-1])
    return SystemScores(ner, rel, rel_gold)


def classify_span_errors(record: AnnotatedDoc, predicted: AnnotatedDoc, doc) -> list[SpanError]:
    """Every strict entity false positive and false negative of one document, classified."""
    _, fps, fns = score_items(entity_items(record), entity_items(predicted), LabelledScores())
    gold_spans, pred_spans = spans_of(record), spans_of(predicted)
    errors = []
    for kind, items, others, unmatched in (("FP", fps, gold_spans, "spurious"), ("FN", fns, pred_spans, "missed")):
        for (start, end), label in items:
            why = error_class(Span(start, end, label), others, unmatched)
            errors.append(SpanError(record.doc_id, kind, label, start, end, record.text[start:end], sentence_of(doc, start, end), why))
    return errors


def classify_relation_errors(record: AnnotatedDoc, predicted: AnnotatedDoc, scheme: LabelScheme) -> list[RelationError]:
    """End-to-end relation FPs and FNs, each put down to the entities or to the relation model."""
    _, fps, fns = score_items(relation_items(record, scheme), relation_items(predicted, scheme), LabelledScores())
    gold_ents = {(e.start, e.end, e.label) for e in record.entities}
    pred_ents = {(e.start, e.end, e.label) for e in predicted.entities}
    errors = []
    for kind, items, right in (("FP", fps, gold_ents), ("FN", fns, pred_ents)):
        for (head, tail), label in items:
            cause = "relation_model" if head in right and tail in right else "entities"
            text = record.text
            errors.append(RelationError(record.doc_id, kind, label, text[head[0] : head[1]], text[tail[0] : tail[1]], cause))
    return errors


def relation_error_counts(errors: list[RelationError], relation_types: list[str]) -> dict:
    """{"FP"|"FN": {cause: n}, "per_type": {type: {"FP"|"FN": {cause: n}}}}."""
    counts = Counter((e.type, e.kind, e.cause) for e in errors)

    def table(types) -> dict:
        return {kind: {cause: sum(counts[(t, kind, cause)] for t in types) for cause in RELATION_CAUSES} for kind in ("FP", "FN")}

    types = sorted(set(relation_types) | {e.type for e in errors})
    return {**table(types), "per_type": {t: table([t]) for t in types}}


def evaluate_records(
    nlp,
    gold: list[AnnotatedDoc],
    model_name: str,
    split: str | None,
    scheme: LabelScheme,
    bootstrap: BootstrapSettings = BootstrapSettings(),
) -> Evaluation:
    """Score `nlp` on the gold records (texts are re-annotated from scratch).

    Every gold relation counts: one whose arguments were not predicted, or that
    fell outside the candidate window, is a false negative.
    """
    has_rel = "relation_extractor" in nlp.pipe_names
    run = relations_on_gold_entities(nlp, gold) if has_rel else None
    on_gold = run.predicted if run else [None] * len(gold)
    outcomes, errors, rel_errors = [], [], []
    texts = tqdm((record.text for record in gold), total=len(gold), desc="evaluate", unit="doc", disable=len(gold) < 20)
    docs, scores = pipe_with_relation_scores(nlp, texts) if has_rel else (list(nlp.pipe(texts)), None)
    for record, doc, rel_on_gold in zip(gold, docs, on_gold):
        predicted = doc_to_record(doc, record.doc_id)
        outcomes.append(DocOutcome(record, predicted, rel_on_gold))
        errors += classify_span_errors(record, predicted, doc)
        if has_rel:
            rel_errors += classify_relation_errors(record, predicted, scheme)
    errors.sort(key=lambda e: (e.doc_id, e.start, e.end, e.kind))
    rel_errors.sort(key=lambda e: (e.doc_id, e.kind))
    return Evaluation(
        model=model_name,
        split=split,
        doc_ids=[r.doc_id for r in gold],
        scheme=scheme,
        scores=score_outcomes(outcomes, scheme),
        errors=errors,
        outcomes=outcomes,
        bootstrap=bootstrap,
        relation_errors=rel_errors,
        threshold_cells=run.threshold_cells if run else None,
        end_to_end_cells=end_to_end_cells(nlp.get_pipe("relation_extractor"), docs, scores, gold) if has_rel else None,
        reach=run.reach if run else None,
    )


def gate_failures(evaluation: Evaluation, min_precision: float | None, min_rel_precision: float | None) -> list[str]:
    """Why the model fails the precision gate (empty if it passes): micro precision below the minimum."""
    failures = []
    if min_precision is not None:
        precision = evaluation.ner.micro().precision
        if precision is None:
            failures.append("NER precision is undefined (no entity predicted), so it cannot reach --min-precision")
        elif precision < min_precision:
            failures.append(f"NER precision {precision:.3f} is below --min-precision {min_precision}")
    if min_rel_precision is not None:
        precision = None if evaluation.rel is None else evaluation.rel.micro().precision
        if evaluation.rel is None:
            failures.append("--min-rel-precision needs a pipeline with a relation model")
        elif precision is None:
            failures.append("REL precision is undefined (no relation predicted), so it cannot reach --min-rel-precision")
        elif precision < min_rel_precision:
            failures.append(f"REL precision {precision:.3f} (end to end) is below --min-rel-precision {min_rel_precision}")
    return failures
