"""Train a spaCy pipeline from a config file in configs/, then put the best model in place."""

from __future__ import annotations

import shutil
from pathlib import Path

import spacy
from spacy.cli.train import train

from workbench.errors import WorkbenchError
from workbench.fileio import replace_dir, staging_dir, write_errors


def train_from_config(
    config: str | Path,
    run_dir: str | Path,
    train_path: str | Path,
    dev_path: str | Path,
    overrides: dict | None = None,
    gpu_id: int = -1,
    checkpoint: str = "model-best",
) -> Path:
    """Run `spacy train` in-process (on the GPU gpu_id, -1: CPU); return the path of the checkpoint asked for (model-best, or model-last)."""
    for name, path in (("config", config), ("train", train_path), ("dev", dev_path)):
        if not Path(path).exists():
            hint = " (run `workbench data` first)" if name != "config" else ""
            raise WorkbenchError(f"{name} file not found{hint}", path=path)
    all_overrides = {"paths.train": str(train_path), "paths.dev": str(dev_path), **(overrides or {})}
    run_dir = Path(run_dir)
    shutil.rmtree(run_dir, ignore_errors=True)
    with write_errors(run_dir):  # spaCy's checkpoints on a full disk: one line naming the run folder
        train(Path(config), run_dir, use_gpu=gpu_id, overrides=all_overrides)
    chosen = run_dir / checkpoint
    if not chosen.exists():
        raise WorkbenchError(f"training finished without a {checkpoint}", path=run_dir)
    return chosen


def install_model(model_dir: str | Path, target: str | Path) -> Path:
    """Copy a trained pipeline to its final place in one step (old model replaced only on success)."""
    staging = staging_dir(target)
    shutil.rmtree(staging)
    shutil.copytree(model_dir, staging)
    replace_dir(staging, target)
    return Path(target)


def assemble_pipeline(ner_model: str | Path, rel_model: str | Path, target: str | Path, provenance: dict | None = None) -> Path:
    """One pipeline NER -> REL: relations are predicted on the entities the NER predicts.

    provenance: what the assembled pipeline records about its making (meta.json "workbench").
    """
    nlp = spacy.load(ner_model)
    rel_nlp = spacy.load(rel_model)
    if provenance is not None:
        nlp.meta["workbench"] = provenance
    # The relation component carries its own tok2vec, so it can be sourced as it is. It goes last:
    # relations are predicted on the entities every NER-side component (entity_conventions) left.
    nlp.add_pipe("relation_extractor", source=rel_nlp)
    staging = staging_dir(target)
    nlp.to_disk(staging)
    replace_dir(staging, target)
    return Path(target)
