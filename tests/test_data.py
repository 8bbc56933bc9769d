"""`workbench data`: gold + split -> DocBins; no held-out document leaks into train or dev."""

from __future__ import annotations

import spacy
from conftest import GOLD
from spacy.tokens import DocBin
from typer.testing import CliRunner

import workbench.docs  # noqa: F401  (registers doc._.relations)
from workbench.cli import app
from workbench.corpus.store import corpus_index

runner = CliRunner()


def doc_ids(path):
    return [doc._.doc_id for doc in DocBin().from_disk(path).get_docs(spacy.blank("en").vocab)]


def test_data_writes_each_split_and_keeps_test_out_of_training(tmp_path, repo_corpus, gold_records):
    out = tmp_path / "docbins"
    result = runner.invoke(app, ["data", str(GOLD), "--corpus", repo_corpus.output, "-o", str(out)])
    assert result.exit_code == 0, result.output
    splits = {k: v["split"] for k, v in corpus_index(repo_corpus.output).items()}
    ids = {name: doc_ids(out / f"{name}.spacy") for name in ("train", "dev", "test")}
    assert sorted(sum(ids.values(), [])) == sorted(r.doc_id for r in gold_records)
    for name, found in ids.items():
        assert found and all(splits[d] == name for d in found)
    assert not set(ids["test"]) & (set(ids["train"]) | set(ids["dev"]))
    test_docs = list(DocBin().from_disk(out / "test.spacy").get_docs(spacy.blank("en").vocab))
    assert all(doc.has_annotation("SENT_START") for doc in test_docs)
    assert sum(len(doc._.relations) for doc in test_docs) == sum(len(r.relations) for r in gold_records if splits[r.doc_id] == "test")


def test_gold_document_missing_from_the_corpus_is_an_error(tmp_path, repo_corpus, gold_records):
    from conftest import write_jsonl

    row = gold_records[0].to_dict()
    row["doc_id"] = "stray"
    path = write_jsonl(tmp_path / "g.jsonl", [row])
    result = runner.invoke(app, ["data", str(path), "--corpus", repo_corpus.output, "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "[stray]: document is not in the corpus" in result.output
    assert not (tmp_path / "o" / "train.spacy").exists(), "nothing half-written"
