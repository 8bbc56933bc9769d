"""`workbench data`: gold + split -> DocBins; no held-out document leaks into train or dev."""

from __future__ import annotations

from pathlib import Path

import spacy
from conftest import GOLD
from spacy.tokens import DocBin
from typer.testing import CliRunner

import workbench.docs  # noqa: F401  (registers doc._.relations)
from workbench.cli import app
from workbench.corpus.store import Corpus

runner = CliRunner()


def doc_ids(path):
    return [doc._.doc_id for doc in DocBin().from_disk(path).get_docs(spacy.blank("en").vocab)]


def test_data_writes_each_split_and_keeps_test_out_of_training(tmp_path, repo_corpus, gold_records):
    out = tmp_path / "docbins"
    result = runner.invoke(app, ["data", str(GOLD), "--corpus", repo_corpus.output, "-o", str(out)])
    assert result.exit_code == 0, result.output
    splits = Corpus.open(repo_corpus.output).splits()
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


def test_data_checks_the_gold_against_the_label_scheme_and_writes_nothing(tmp_path, repo_corpus, gold_records):
    from conftest import write_jsonl

    out = tmp_path / "o"
    first = runner.invoke(app, ["data", str(GOLD), "--corpus", repo_corpus.output, "-o", str(out)])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    rows = [r.to_dict() for r in gold_records]
    rows[1]["entities"][0]["label"] = "PERSN"  # a label labels.yml does not have, on line 2
    ent = rows[1]["entities"][0]
    path = write_jsonl(tmp_path / "g.jsonl", rows)
    result = runner.invoke(app, ["data", str(path), "--corpus", repo_corpus.output, "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.startswith(
        f"error: {path}:2 [{rows[1]['doc_id']}]: unknown entity label 'PERSN' {ent['start_offset']}-{ent['end_offset']}"
    )
    assert "nothing written" in result.output and "Traceback" not in result.output
    # The earlier DocBins and manifest are untouched.
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_data_warns_on_an_empty_split_and_counts_unresolved_conflicts(tmp_path, repo_corpus, gold_records):
    import hashlib
    import json

    from conftest import ROOT, write_jsonl

    from workbench.training.convert import read_data_manifest

    splits = Corpus.open(repo_corpus.output).splits()
    rows = [r.to_dict() for r in gold_records if splits[r.doc_id] != "dev"]  # no dev document
    open_doc, resolved_doc = rows[0]["doc_id"], rows[1]["doc_id"]
    rows[0]["adjudication"] = {"policy": "majority", "conflicts": 2}
    rows[1]["adjudication"] = {"policy": "majority", "conflicts": 0, "resolved_conflicts": 3}
    path = write_jsonl(tmp_path / "g.jsonl", rows)
    out = tmp_path / "o"
    assert read_data_manifest(out) is None
    result = runner.invoke(app, ["data", str(path), "--corpus", repo_corpus.output, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "dev: 0 documents, 0 entities, 0 relations" in result.output
    assert "warning: the dev split has no gold documents" in result.output
    assert "train split has no" not in result.output and "test split has no" not in result.output
    assert f"warning: 1 document with unresolved adjudication conflicts ({open_doc})" in result.output

    manifest = read_data_manifest(out)
    assert manifest == json.loads((out / "manifest.json").read_text())
    counts = {name: sum(splits[r["doc_id"]] == name for r in rows) for name in ("train", "dev", "test")}
    assert counts["dev"] == 0 and counts["train"] > 0
    sha = lambda p: hashlib.sha256(Path(p).read_bytes()).hexdigest()  # noqa: E731
    assert manifest == {
        "gold": str(path),
        "gold_sha256": sha(path),
        "labels": "configs/labels.yml",
        "labels_sha256": sha(ROOT / "configs" / "labels.yml"),
        "documents": counts,
        "docbins": {name: {"path": str(out / f"{name}.spacy"), "sha256": sha(out / f"{name}.spacy")} for name in ("train", "dev", "test")},
        "unresolved_conflicts": {"count": 1, "doc_ids": [open_doc]},
    }
    assert resolved_doc not in result.output


def test_data_says_when_no_conflict_is_open(tmp_path, repo_corpus):
    result = runner.invoke(app, ["data", str(GOLD), "--corpus", repo_corpus.output, "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "unresolved adjudication conflicts: none" in result.output and "warning" not in result.output
    # One document, one entity: singular wording.
    assert " 1 documents" not in result.output and " 1 entities" not in result.output

