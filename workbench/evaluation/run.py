"""`workbench evaluate` as a library function: score a trained pipeline on gold documents, beside the baselines, and write the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.corpus.store import Corpus
from workbench.errors import WorkbenchError
from workbench.evaluation.baselines import run_baselines
from workbench.evaluation.evaluate import Evaluation, evaluate_records, select_gold
from workbench.evaluation.provenance import describe_provenance, selection_doc_ids, trained_on
from workbench.evaluation.report import publish_report
from workbench.labels import load_labels
from workbench.metrics import BootstrapSettings
from workbench.predict import load_pipeline
from workbench.words import count


@dataclass(frozen=True)
class EvaluationRun:
    """The evaluation, its metrics.json as written, and the report's files."""

    evaluation: Evaluation
    metrics: dict
    paths: dict[str, Path]


def evaluate(
    model: str | Path,
    data: list[Path],
    splits: list[str] | None,
    output: str | Path,
    corpus: str | Path = Path("corpus/build"),
    labels: str | Path = Path("configs/labels.yml"),
    bootstrap: BootstrapSettings = BootstrapSettings(),
    baselines: bool = True,
    html: bool = True,
    allow_training_documents: bool = False,
) -> EvaluationRun:
    """Score `model` on the gold documents of `data` (those of `splits`, when given) and write the report to `output`.

    Documents the model trained on, by its own provenance (ids and text hashes in its
    meta.json), are refused, or with `allow_training_documents` scored and every figure
    marked not held out. The corpus, when there is one, also tells which evaluated documents
    are in its training split (a note says so) and which gold documents the baselines are
    built from.
    """
    scheme = load_labels(labels)
    known = Corpus.open(corpus) if splits else Corpus.open_if_built(corpus)
    gold = select_gold(data, splits, known)
    nlp = load_pipeline(model)
    seen = trained_on(nlp.meta, gold)
    if seen and not allow_training_documents:
        raise WorkbenchError(
            f"the model trained on {len(seen)} of the {count(len(gold), 'document')} to evaluate ({', '.join(seen)}), "
            "by the document ids and text hashes in its meta.json: scores there are not held out. Evaluate on other "
            "documents (a model trained on every gold document has its cross-validated estimate in its card, README.md), "
            "or pass --allow-training-documents to score them with every figure marked not held out"
        )
    evaluation = evaluate_records(nlp, gold, str(model), "+".join(splits) if splits else None, scheme, bootstrap)
    evaluation.provenance = describe_provenance(model, nlp.meta, data)
    if seen:
        evaluation.mark_not_held_out(seen)
    evaluation.note_training_documents(known)
    evaluation.note_selection_documents(selection_doc_ids(nlp.meta))
    if baselines:
        add_baselines(evaluation, nlp, data, known)
    paths = publish_report(evaluation, output, html=html)
    return EvaluationRun(evaluation, evaluation.metrics(), paths)


def add_baselines(evaluation: Evaluation, nlp, data: list[Path], corpus: Corpus | None) -> None:
    """The baselines, built from the gold documents of the corpus's training split; a note where there are none."""
    if corpus is None:
        evaluation.notes.append("no baselines: they are built from the training split, and there is no corpus (--corpus)")
        return
    train = [r for r in select_gold(data, None, None) if corpus.split_of(r.doc_id) == "train"]
    if not train:
        evaluation.notes.append("no baselines: no gold document is in the training split")
        return
    run_baselines(evaluation, train, nlp)
