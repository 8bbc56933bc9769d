"""Predict on held-out gold documents and score the predictions against the gold."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from workbench.docs import doc_to_record, record_to_doc
from workbench.errors import WorkbenchError
from workbench.evaluation.scorer import LabelledScores, entity_items, relation_items, score_items
from workbench.records import AnnotatedDoc, read_records


@dataclass
class SpanError:
    """A false positive or false negative, with the sentence it sits in."""

    doc_id: str
    kind: str  # "FP" or "FN"
    label: str
    start: int
    end: int
    text: str
    sentence: str


@dataclass
class Evaluation:
    model: str
    split: str | None
    doc_ids: list[str]
    labels: list[str]
    ner: LabelledScores
    errors: list[SpanError] = field(default_factory=list)
    relation_types: list[str] = field(default_factory=list)
    # End to end: relations predicted on predicted entities.
    rel: LabelledScores | None = None
    # The relation model alone: relations predicted on the gold entities.
    rel_gold_entities: LabelledScores | None = None

    def metrics(self) -> dict:
        metrics = {
            "split": self.split,
            "documents": len(self.doc_ids),
            "document_ids": self.doc_ids,
            "model": self.model,
            "ner": self.ner.to_dict(self.labels),
        }
        if self.rel is not None:
            metrics["rel"] = {
                **self.rel.to_dict(self.relation_types),
                "gold_entities": self.rel_gold_entities.to_dict(self.relation_types),
            }
        return metrics


def select_gold(gold_paths: list[str | Path], split: str | None, corpus: dict[str, dict] | None) -> list[AnnotatedDoc]:
    records = [r for path in gold_paths for r in read_records(path)]
    if split is None:
        return records
    if corpus is None:
        raise WorkbenchError("--split needs the corpus (run `workbench corpus build`)")
    missing = [r.doc_id for r in records if r.doc_id not in corpus]
    if missing:
        raise WorkbenchError(f"gold documents not in the corpus: {', '.join(missing)}")
    selected = [r for r in records if corpus[r.doc_id]["split"] == split]
    if not selected:
        raise WorkbenchError(f"no gold document is in the {split!r} split")
    return selected


def relations_on_gold_entities(nlp, record: AnnotatedDoc) -> AnnotatedDoc:
    """Run only the relation step on the gold entities, to isolate the relation model."""
    doc = record_to_doc(nlp.make_doc, record)
    doc._.relations = []
    keep = {"sentencizer", "senter", "relation_extractor"}
    with nlp.select_pipes(enable=[name for name in nlp.pipe_names if name in keep]):
        doc = nlp(doc)
    return doc_to_record(doc, record.doc_id)


def sentence_of(doc, start: int, end: int) -> str:
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not doc.has_annotation("SENT_START"):
        return doc.text[max(0, start - 80) : end + 80]
    return span.sent.text


def evaluate_records(
    nlp,
    gold: list[AnnotatedDoc],
    model_name: str,
    split: str | None,
    labels: list[str],
    relation_types: list[str] = (),
    symmetric: set[str] = frozenset(),
) -> Evaluation:
    """Score `nlp` on the gold records (texts are re-annotated from scratch).

    Every gold relation counts: one whose arguments were not predicted, or that
    fell outside the candidate window, is a false negative.
    """
    has_rel = "relation_extractor" in nlp.pipe_names
    rel = LabelledScores() if has_rel else None
    rel_gold = LabelledScores() if has_rel else None
    ner = LabelledScores()
    errors: list[SpanError] = []
    texts = (record.text for record in gold)
    progress = tqdm(zip(gold, nlp.pipe(texts)), total=len(gold), desc="evaluate", unit="doc", disable=len(gold) < 20)
    for record, doc in progress:
        predicted = doc_to_record(doc, record.doc_id)
        _, fps, fns = score_items(entity_items(record), entity_items(predicted), ner)
        if has_rel:
            gold_rels = relation_items(record, symmetric)
            score_items(gold_rels, relation_items(predicted, symmetric), rel)
            score_items(gold_rels, relation_items(relations_on_gold_entities(nlp, record), symmetric), rel_gold)
        for kind, items in (("FP", fps), ("FN", fns)):
            for (start, end), label in items:
                errors.append(SpanError(record.doc_id, kind, label, start, end, record.text[start:end], sentence_of(doc, start, end)))
    errors.sort(key=lambda e: (e.doc_id, e.start, e.end, e.kind))
    return Evaluation(model_name, split, [r.doc_id for r in gold], labels, ner, errors, list(relation_types), rel, rel_gold)
