"""Shared fixtures: the repository's own configs and gold, and small corpora built in temp folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench.corpus.build import CorpusConfig, build_corpus
from workbench.labels import load_labels

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "annotations" / "gold" / "diplomatic.jsonl"
RAW = ROOT / "corpus" / "raw"


@pytest.fixture(scope="session")
def scheme():
    return load_labels(ROOT / "configs" / "labels.yml")


@pytest.fixture(scope="session")
def gold_records():
    from workbench.records import read_records

    return read_records(GOLD)


def build_repo_corpus(folder: Path) -> CorpusConfig:
    """The bundled corpus built into folder with the repository's corpus config and split lock."""
    from workbench.corpus.build import load_corpus_config

    cfg = load_corpus_config(ROOT / "configs" / "corpus.yml")
    cfg.sources = [str(RAW)]
    cfg.output = str(folder / "corpus")
    cfg.splits_file = str(folder / "splits.json")
    shutil.copy(ROOT / "corpus" / "splits.json", cfg.splits_file)
    build_corpus(cfg)
    return cfg


@pytest.fixture
def repo_corpus(tmp_path):
    return build_repo_corpus(tmp_path)


def write_jsonl(path: Path, rows: list) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


def small_config(tmp_path: Path, sources: list[Path], **kwargs) -> CorpusConfig:
    return CorpusConfig(
        sources=[str(s) for s in sources],
        output=str(tmp_path / "build"),
        splits_file=str(tmp_path / "splits.json"),
        **kwargs,
    )
