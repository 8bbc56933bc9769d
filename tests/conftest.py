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


def ten_gold_documents(folder: Path) -> Path:
    """The bundled gold's 5 documents, each twice under its own doc_id: the fewest documents evaluate gives intervals on."""
    from workbench.metrics import MIN_INTERVAL_DOCUMENTS

    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows += [{**row, "doc_id": f"{row['doc_id']}-copy"} for row in rows]
    assert len(rows) == MIN_INTERVAL_DOCUMENTS
    path = folder / "ten-gold.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def ruler_nlp(gold_records):
    """A real (rule-based) pipeline: patterns from two gold docs, so it is right on some spans and wrong on others."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    patterns = {(r.text[e.start : e.end], e.label) for r in gold_records[:2] for e in r.entities}
    # A deliberately wrong label and a boundary error, so every kind of mistake shows up.
    patterns |= {("Fidan", "GPE"), ("Foreign", "NORP")}
    ruler.add_patterns([{"label": label, "pattern": text} for text, label in sorted(patterns)])
    return nlp


@pytest.fixture(scope="session")
def ruler_model(tmp_path_factory, gold_records):
    path = tmp_path_factory.mktemp("model") / "ruler"
    ruler_nlp(gold_records).to_disk(path)
    return path


@pytest.fixture(scope="session")
def ruler_rel_model(tmp_path_factory, gold_records):
    """The ruler with an initialised but untrained relation_extractor: a full NER -> REL pipeline in a second.

    Its relation scores are arbitrary but fixed once saved, which is all a report needs.
    """
    from spacy.training import Example
    from thinc.api import fix_random_seed

    from workbench.docs import record_to_doc

    nlp = ruler_nlp(gold_records)
    nlp.add_pipe("relation_extractor")
    examples = [Example(nlp.make_doc(r.text), nlp.get_pipe("sentencizer")(record_to_doc(nlp.make_doc, r))) for r in gold_records]
    fix_random_seed(0)
    nlp.get_pipe("relation_extractor").initialize(lambda: examples, nlp=nlp, labels_path=str(ROOT / "configs" / "labels.yml"))
    path = tmp_path_factory.mktemp("model") / "ruler-rel"
    nlp.to_disk(path)
    return path


def build_repo_corpus(folder: Path) -> CorpusConfig:
    """The bundled corpus built into `folder` with the repository's corpus config and split lock."""
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


@pytest.fixture
def repo_docbins(tmp_path, repo_corpus, scheme) -> Path:
    """train/dev/test DocBins of the repository's gold, by the corpus split, in tmp_path/docbins."""
    from workbench.corpus.store import Corpus
    from workbench.training.convert import convert_gold

    convert_gold([GOLD], Corpus.open(repo_corpus.output), tmp_path / "docbins", scheme, ROOT / "configs" / "labels.yml")
    return tmp_path / "docbins"


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


@pytest.fixture(scope="session")
def doccano_server(tmp_path_factory):
    """One real Doccano server for the whole session (tests/doccano_helpers.py); it fails, never skips, if it cannot start."""
    from doccano_helpers import start_server

    yield from start_server(tmp_path_factory.mktemp("doccano-server"))
