"""Predict on held-out gold documents and score the predictions against the gold."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from workbench.docs import doc_to_record
from workbench.errors import WorkbenchError
from workbench.evaluation.scorer import LabelledScores, score_items
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

    def metrics(self) -> dict:
        return {
            "split": self.split,
            "documents": len(self.doc_ids),
            "document_ids": self.doc_ids,
            "model": self.model,
            "ner": self.ner.to_dict(self.labels),
        }


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


def entity_items(record: AnnotatedDoc) -> list[tuple[tuple[int, int], str]]:
    return [((e.start, e.end), e.label) for e in record.entities]


def sentence_of(doc, start: int, end: int) -> str:
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not doc.has_annotation("SENT_START"):
        return doc.text[max(0, start - 80) : end + 80]
    return span.sent.text


def evaluate_records(nlp, gold: list[AnnotatedDoc], model_name: str, split: str | None, labels: list[str]) -> Evaluation:
    """Score `nlp` on the gold records (texts are re-annotated from scratch)."""
    ner = LabelledScores()
    errors: list[SpanError] = []
    texts = (record.text for record in gold)
    progress = tqdm(zip(gold, nlp.pipe(texts)), total=len(gold), desc="evaluate", unit="doc", disable=len(gold) < 20)
    for record, doc in progress:
        predicted = doc_to_record(doc, record.doc_id)
        _, fps, fns = score_items(entity_items(record), entity_items(predicted), ner)
        for kind, items in (("FP", fps), ("FN", fns)):
            for (start, end), label in items:
                errors.append(SpanError(record.doc_id, kind, label, start, end, record.text[start:end], sentence_of(doc, start, end)))
    errors.sort(key=lambda e: (e.doc_id, e.start, e.end, e.kind))
    return Evaluation(model_name, split, [r.doc_id for r in gold], labels, ner, errors)
