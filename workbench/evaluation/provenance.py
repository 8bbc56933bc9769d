"""What an evaluation scored against what: the model and its base model, its training data and config, the gold, versions, date.

The model side is read from the pipeline's meta.json, where `workbench train` records
`meta["workbench"] = {"base_model", "training": {"manifest": <the data manifest>}, "config_sha256"}`;
anything a pipeline does not record (one trained elsewhere, or before this was recorded)
is "unknown", never guessed.

The date is today's (UTC), or the one SOURCE_DATE_EPOCH gives (the reproducible-builds
convention), so that the same inputs can give byte-identical reports.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterable

import spacy

from workbench import __version__
from workbench.annotation_files import annotation_paths
from workbench.corpus.ingest import text_sha256
from workbench.docs import docbin_doc_ids
from workbench.errors import WorkbenchError
from workbench.fileio import sha256_of_files

UNKNOWN = "unknown"


def report_date() -> str:
    """ISO date and time (UTC) of now, or of SOURCE_DATE_EPOCH when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    try:
        seconds = int(epoch) if epoch else time.time()
    except ValueError:
        raise WorkbenchError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, got {epoch!r}") from None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _training(meta: dict) -> dict:
    """Count and sha256 of the training DocBin and the gold it came from.

    The DocBin as `train_pipeline` recorded it comes first; the data manifest (present when
    `workbench data` wrote the DocBins) adds the gold.
    """
    training = meta.get("training") or {}
    manifest = training.get("manifest") if isinstance(training.get("manifest"), dict) else {}
    docbin = training.get("train") or (manifest.get("docbins") or {}).get("train") or {}
    return {
        "documents": docbin.get("documents", (manifest.get("documents") or {}).get("train", UNKNOWN)),
        "docbin": docbin.get("path", UNKNOWN),
        "sha256": docbin.get("sha256", UNKNOWN),
        "gold": manifest.get("gold", UNKNOWN),
        "gold_sha256": manifest.get("gold_sha256", UNKNOWN),
    }


def selection_doc_ids(model_meta: dict) -> list[str] | None:
    """The documents training chose the model's checkpoint and relation thresholds on (its dev DocBin); None if unknown.

    `workbench train` records them in meta.json; for a model trained before it did, the dev
    DocBin it names is read, if it is still the one whose sha256 the model recorded.
    """
    meta = model_meta.get("workbench")
    dev = ((meta.get("training") or {}).get("dev") if isinstance(meta, dict) else None) or {}
    if isinstance(dev.get("doc_ids"), list):
        return [str(d) for d in dev["doc_ids"]]
    path, sha = dev.get("path"), dev.get("sha256")
    if path and sha and Path(path).is_file() and sha256_of_files([path]) == sha:
        return [str(d) for d in docbin_doc_ids(path)]
    return None


def describe_provenance(model_path: str | Path, model_meta: dict, gold_paths: Iterable[str | Path]) -> dict:
    """model_meta: the pipeline's meta.json (nlp.meta)."""
    gold_paths = [str(p) for p in gold_paths]
    meta = model_meta.get("workbench")
    meta = meta if isinstance(meta, dict) else {}
    return {
        "model": {
            "path": str(model_path),
            "name": f"{model_meta.get('lang', '')}_{model_meta.get('name', '')}",
            "version": model_meta.get("version", UNKNOWN),
            "base_model": str(meta.get("base_model") or UNKNOWN),
        },
        "training": _training(meta),
        "config_sha256": meta.get("config_sha256") or UNKNOWN,
        "gold": {"paths": gold_paths, "sha256": sha256_of_files(annotation_paths(gold_paths))},
        "versions": {"workbench": __version__, "spacy": spacy.__version__},
        "date": report_date(),
    }


def trained_on(model_meta: dict, records) -> list[str]:
    """The evaluated documents the model trained on, by its own provenance: same doc_id or same text (sha256).

    A pipeline trained before document ids were recorded (or elsewhere) lists none, so
    this finds nothing for it; evaluate then still notes documents of the training split.
    """
    meta = model_meta.get("workbench") if isinstance(model_meta.get("workbench"), dict) else {}
    train = (meta.get("training") or {}).get("train") or {}
    ids = set(train.get("doc_ids") or []) - {None}
    hashes = set(train.get("text_sha256") or [])
    return [r.doc_id for r in records if r.doc_id in ids or text_sha256(r.text) in hashes]


def _short(sha: str) -> str:
    return f"`{sha[:12]}`" if sha != UNKNOWN else UNKNOWN


def provenance_rows(provenance: dict) -> list[list[str]]:
    """The provenance as (what, value) rows for the report header; hashes shortened to 12 digits (metrics.json has them whole)."""
    model, training, gold = provenance["model"], provenance["training"], provenance["gold"]
    configs = provenance["config_sha256"]
    configs = ", ".join(f"{name} {_short(sha)}" for name, sha in configs.items()) if isinstance(configs, dict) else _short(configs)
    return [
        ["model", f"`{model['path']}` ({model['name']} {model['version']})"],
        ["base model", model["base_model"]],
        ["training documents", f"{training['documents']} (DocBin `{training['docbin']}`, sha256 {_short(training['sha256'])})"],
        ["config sha256", configs or UNKNOWN],
        ["gold", f"{', '.join(f'`{p}`' for p in gold['paths'])} (sha256 {_short(gold['sha256'])})"],
        ["versions", f"workbench {provenance['versions']['workbench']}, spaCy {provenance['versions']['spacy']}"],
        ["date", provenance["date"]],
    ]
