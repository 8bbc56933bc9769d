"""Learning curve: retrain NER and REL on growing, nested subsets of the training documents and score each.

Tells whether more annotation would still help: a curve still climbing at 100% says yes,
a flat one says the next gain must come from elsewhere (guidelines, model, features).
Subsets are nested (each contains the smaller ones) and drawn in a seeded order, so two
runs with the same seed train on the same documents.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy
from tqdm import tqdm

from workbench.docs import doc_to_record, make_gold_nlp, read_docbin
from workbench.errors import WorkbenchError
from workbench.evaluation.plots import plot_learning_curve
from workbench.experiments.trial import Scoring, TrialDocuments, TrialFolders, run_trial
from workbench.fileio import write_json
from workbench.metrics import BootstrapSettings
from workbench.records import AnnotatedDoc
from workbench.training.pipeline import PipelineSpec

FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def subset_sizes(n_docs: int, fractions: tuple[float, ...]) -> dict[int, list[float]]:
    """{number of documents: the fractions that round (half up) to it}; at least one document each."""
    for fraction in fractions:
        if not 0.0 < fraction <= 1.0:
            raise WorkbenchError(f"a fraction must be in (0, 1], got {fraction}")
    sizes: dict[int, list[float]] = {}
    for fraction in sorted(fractions):
        size = min(n_docs, max(1, math.floor(fraction * n_docs + 0.5)))
        sizes.setdefault(size, []).append(fraction)
    return sizes


def nested_order(docs: list[AnnotatedDoc], seed: int) -> list[AnnotatedDoc]:
    """The documents in a seeded random order (by doc id first, so the order does not depend on the file)."""
    docs = sorted(docs, key=lambda doc: doc.doc_id)
    order = numpy.random.default_rng(seed).permutation(len(docs))
    return [docs[i] for i in order]


def _headline(headline) -> dict:
    return {**headline.micro, "ci": headline.ci}


def read_split(data_dir: Path, split: str) -> list[AnnotatedDoc]:
    """The gold records of DATA/SPLIT.spacy, as `workbench data` wrote them."""
    return [doc_to_record(doc) for doc in read_docbin(make_gold_nlp(), data_dir / f"{split}.spacy")]


def run_learning_curve(
    data_dir: str | Path,
    output: str | Path,
    spec: PipelineSpec,
    split: str = "dev",
    seed: int = 0,
    fractions: tuple[float, ...] = FRACTIONS,
    bootstrap_samples: int = 1000,
) -> dict:
    """Write OUTPUT/curve.json and OUTPUT/curve.png; return the curve.

    Relation thresholds stay at the config's value: tuning them on the documents the curve
    is scored on would flatter every point alike and hide nothing, but it would not be held out.
    Each point picks its checkpoint on DATA/dev.spacy.
    """
    data_dir, output = Path(data_dir), Path(output)
    # Thresholds stay at the config's value (see above).
    spec = replace(spec, tune=False)
    train = read_split(data_dir, "train")
    if not train:
        raise WorkbenchError("no training documents", path=data_dir / "train.spacy")
    gold = read_split(data_dir, split)
    if not gold:
        raise WorkbenchError(f"no {split} documents to score the curve on", path=data_dir / f"{split}.spacy")
    dev = read_split(data_dir, "dev")
    sizes = subset_sizes(len(train), tuple(fractions))
    order = nested_order(train, seed)
    scoring = Scoring(split=split, bootstrap=BootstrapSettings(bootstrap_samples, seed))
    output.mkdir(parents=True, exist_ok=True)
    points = []
    with tempfile.TemporaryDirectory(dir=output, prefix=".curve-") as tmp:
        for size, share in tqdm(sizes.items(), desc="learning curve", unit="point"):
            work = Path(tmp) / f"{size}"
            trial = run_trial(spec, TrialDocuments(order[:size], dev, gold), TrialFolders.under(work), scoring)
            headlines = trial.evaluation.headlines()
            point = {"fractions": share, "train_documents": size, "train_doc_ids": [r.doc_id for r in order[:size]]}
            point.update({task: _headline(headline) for task, headline in headlines.items()})
            points.append(point)
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "split": split,
        "documents": len(gold),
        "document_ids": [r.doc_id for r in gold],
        "train_documents": len(train),
        "seed": seed,
        **spec.describe(),
        "notes": curve_notes(len(train), sizes, split),
        "points": points,
    }
    write_json(output / "curve.json", result)
    title = f"Learning curve: scored on {len(gold)} {split} document{'s' if len(gold) != 1 else ''}"
    plot_learning_curve(points, title, output / "curve.png")
    return result


def curve_notes(n_docs: int, sizes: dict[int, list[float]], split: str) -> list[str]:
    notes = [
        f"fractions {' and '.join(f'{f:g}' for f in share)} of {n_docs} training documents round to {size}: trained once"
        for size, share in sizes.items()
        if len(share) > 1
    ]
    if split == "dev":
        notes.append("scored on dev, which also picked each model's best checkpoint: the points are a little optimistic")
    notes.append("relation thresholds are the config's, not tuned")
    return notes
