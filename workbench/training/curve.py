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

from tqdm import tqdm

from workbench.errors import WorkbenchError
from workbench.fileio import write_json
from workbench.training.pipeline import PipelineSpec, train_pipeline

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


def nested_order(docs: list, seed: int) -> list:
    """The documents in a seeded random order (by doc id first, so the order does not depend on the file)."""
    import numpy

    docs = sorted(docs, key=lambda doc: doc._.doc_id or "")
    order = numpy.random.default_rng(seed).permutation(len(docs))
    return [docs[i] for i in order]


def _headline(scores: dict) -> dict:
    micro = scores["micro"]
    return {**{k: micro[k] for k in ("precision", "recall", "f1", "tp", "fp", "fn")}, "ci": (scores.get("ci") or {}).get("micro")}


def _train_point(docs: list, work: Path, data_dir: Path, spec: PipelineSpec) -> Path:
    """Train NER and REL on `docs` and assemble them; returns the pipeline's path."""
    from spacy.tokens import DocBin

    train_path = work / "train.spacy"
    DocBin(store_user_data=True, docs=docs).to_disk(train_path)
    return train_pipeline(spec, train_path, data_dir / "dev.spacy", work / "runs", work / "pipeline").path


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
    """
    import spacy

    from workbench.docs import doc_to_record
    from workbench.evaluation.bootstrap import BootstrapSettings
    from workbench.evaluation.evaluate import evaluate_records
    from workbench.evaluation.plots import plot_learning_curve
    from workbench.labels import load_labels
    from workbench.predict import load_pipeline
    from workbench.training.tune import read_docbin

    data_dir, output = Path(data_dir), Path(output)
    # Thresholds stay at the config's value (see above).
    spec = replace(spec, tune=False)
    scheme = load_labels(spec.labels)
    vocab_nlp = spacy.blank("en")
    train_docs = read_docbin(vocab_nlp, data_dir / "train.spacy")
    if not train_docs:
        raise WorkbenchError("no training documents", path=data_dir / "train.spacy")
    gold = [doc_to_record(doc) for doc in read_docbin(vocab_nlp, data_dir / f"{split}.spacy")]
    if not gold:
        raise WorkbenchError(f"no {split} documents to score the curve on", path=data_dir / f"{split}.spacy")
    sizes = subset_sizes(len(train_docs), tuple(fractions))
    order = nested_order(train_docs, seed)
    output.mkdir(parents=True, exist_ok=True)
    points = []
    with tempfile.TemporaryDirectory(dir=output, prefix=".curve-") as tmp:
        for size, share in tqdm(sizes.items(), desc="learning curve", unit="point"):
            work = Path(tmp) / f"{size}"
            work.mkdir()
            pipeline = _train_point(order[:size], work, data_dir, spec)
            evaluation = evaluate_records(
                load_pipeline(pipeline), gold, str(pipeline), split, scheme,
                BootstrapSettings(bootstrap_samples, seed),
            )
            metrics = evaluation.metrics()
            point = {"fractions": share, "train_documents": size, "train_doc_ids": [d._.doc_id for d in order[:size]], "ner": _headline(metrics["ner"])}
            if "rel" in metrics:
                point["rel"] = _headline(metrics["rel"])
                point["rel_gold_entities"] = _headline(metrics["rel"]["gold_entities"])
            points.append(point)
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "split": split,
        "documents": len(gold),
        "document_ids": [r.doc_id for r in gold],
        "train_documents": len(train_docs),
        "seed": seed,
        **spec.describe(),
        "notes": curve_notes(len(train_docs), sizes, split),
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
