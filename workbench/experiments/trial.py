"""One trial, the loop every experiment repeats: train a PipelineSpec on some gold documents, tune on others, score on held-out ones.

Cross-validation (a trial per fold), the learning curve (a trial per subset), the CoNLL04
benchmark (one trial) and the active-learning study (a trial per round) differ only in which
documents each trial gets and what they make of its Evaluation. The spec is handed to
`train_pipeline` whole, so whatever a PipelineSpec says (base model, configs, overrides,
tuning) means the same in every experiment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from spacy.language import Language

from workbench.docs import gold_docs, make_gold_nlp, write_docbin
from workbench.evaluation.baselines import run_baselines
from workbench.evaluation.evaluate import Evaluation, evaluate_records
from workbench.labels import load_labels
from workbench.metrics import BootstrapSettings
from workbench.predict import load_pipeline
from workbench.records import AnnotatedDoc
from workbench.training.pipeline import PipelineSpec, TrainedPipeline, train_pipeline


@dataclass(frozen=True)
class TrialDocuments:
    """Gold documents to train on, to pick the checkpoint and tune thresholds on (`dev`), and to score on (`test`).

    With no dev documents the checkpoint is chosen on the training documents and the
    relation thresholds stay the config's (not tuned).
    """

    train: list[AnnotatedDoc]
    dev: list[AnnotatedDoc]
    test: list[AnnotatedDoc]


@dataclass(frozen=True)
class TrialFolders:
    """Where a trial writes: its DocBins (train.spacy, dev.spacy), spaCy's runs, and the trained pipeline."""

    docbins: Path
    runs: Path
    pipeline: Path

    @classmethod
    def under(cls, folder: str | Path) -> "TrialFolders":
        folder = Path(folder)
        return cls(folder, folder / "runs", folder / "pipeline")


@dataclass(frozen=True)
class Scoring:
    """How a trial's model is scored: the name and split its Evaluation carries, the intervals, and the baselines beside it."""

    name: str | None = None  # None: the trained pipeline's path
    split: str | None = None
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    # The baselines are built from the trial's training documents.
    baselines: bool = False


@dataclass(frozen=True)
class Trial:
    """What a trial made: the trained pipeline (and its tuning report), loaded, and its evaluation on the test documents."""

    pipeline: TrainedPipeline
    nlp: Language
    evaluation: Evaluation


def run_trial(spec: PipelineSpec, documents: TrialDocuments, folders: TrialFolders, scoring: Scoring = Scoring()) -> Trial:
    """Write the DocBins, train and tune through `train_pipeline`, load the pipeline, score it on the test documents."""
    nlp = make_gold_nlp()
    train_path = write_docbin(folders.docbins / "train.spacy", gold_docs(documents.train, nlp))
    if documents.dev:
        dev_path = write_docbin(folders.docbins / "dev.spacy", gold_docs(documents.dev, nlp))
    else:
        dev_path, spec = train_path, replace(spec, tune=False)
    trained = train_pipeline(spec, train_path, dev_path, folders.runs, folders.pipeline)
    model = load_pipeline(trained.path)
    name = scoring.name or str(trained.path)
    evaluation = evaluate_records(model, documents.test, name, scoring.split, load_labels(spec.labels), scoring.bootstrap)
    if scoring.baselines:
        run_baselines(evaluation, documents.train, model)
    return Trial(trained, model, evaluation)
