"""Corpus build: readers, metadata header, dedupe, near-duplicate groups, stable document split."""

from __future__ import annotations

import json

from conftest import RAW, small_config, write_jsonl

from workbench.corpus.build import build_corpus
from workbench.corpus.ingest import read_source, split_header
from workbench.corpus.split import assign_splits, load_assignments
from workbench.corpus.store import Corpus, export_jsonl, load_corpus

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()


def distinct_text(n: int) -> str:
    # Each text uses its own vocabulary so TF-IDF sees no near-duplicates.
    return " ".join(f"{w}{n}x{i}" for i, w in enumerate(WORDS)) + "."


def write_articles(folder, ids):
    folder.mkdir(parents=True, exist_ok=True)
    for n in ids:
        (folder / f"doc{n:03d}.txt").write_text(distinct_text(n), encoding="utf-8")


def test_date_header_is_metadata_and_text_is_kept_byte_for_byte():
    raw = (RAW / "000_2cb32350f79870a9.txt").read_text(encoding="utf-8")
    text, date = split_header(raw)
    assert date == "2026-03-04"
    assert text.startswith("Foreign Minister Hakan Fidan")
    assert raw.endswith(text) and len(raw) - len(text) == len(" date 2026-03-04 ")
    assert split_header("No header here.") == ("No header here.", None)


def test_bundled_corpus_record_fields(repo_corpus):
    data = load_corpus(repo_corpus.output)
    assert len(data) == 5
    row = next(r for r in data if r["doc_id"] == "000_2cb32350f79870a9")
    assert row["date"] == "2026-03-04"
    assert row["source"].endswith("000_2cb32350f79870a9.txt")
    import hashlib

    assert row["sha256"] == hashlib.sha256(row["text"].encode("utf-8")).hexdigest()
    splits = {r["doc_id"]: r["split"] for r in data}
    assert splits["000_2cb32350f79870a9"] == splits["003_140c4e8053404410"], "keep_together must share a split"
    assert {"train", "dev", "test"} <= set(splits.values())
    # The group is stored, named by its smallest doc_id: the keep_together pair shares one, the rest are alone.
    groups = {r["doc_id"]: r["group"] for r in data}
    assert groups["000_2cb32350f79870a9"] == groups["003_140c4e8053404410"] == "000_2cb32350f79870a9"
    assert groups["001_05c9d2cdeba1758c"] == "001_05c9d2cdeba1758c"


def test_split_is_stable_when_the_corpus_grows(tmp_path):
    src = tmp_path / "raw"
    write_articles(src, range(8))
    cfg = small_config(tmp_path, [src])
    build_corpus(cfg)
    before = load_assignments(cfg.splits_file)
    write_articles(src, range(8, 40))
    build_corpus(cfg)
    after = load_assignments(cfg.splits_file)
    assert len(after) == 40
    assert {k: after[k] for k in before} == before
    counts = {s: list(after.values()).count(s) for s in ("train", "dev", "test")}
    assert counts["train"] > counts["dev"] > 0 and counts["test"] > 0


def test_same_inputs_give_the_same_split(tmp_path):
    results = []
    for run in ("a", "b"):
        src = tmp_path / run / "raw"
        write_articles(src, range(12))
        cfg = small_config(tmp_path / run, [src])
        build_corpus(cfg)
        results.append(load_assignments(cfg.splits_file))
    assert results[0] == results[1]


def test_three_groups_give_each_split_a_document():
    groups = {f"g{i}": [f"g{i}"] for i in range(3)}
    splits = assign_splits(groups, {}, {"train": 0.8, "dev": 0.1, "test": 0.1}, seed=1)
    assert sorted(splits.values()) == ["dev", "test", "train"]


def test_exact_duplicates_are_dropped_and_near_duplicates_share_a_split(tmp_path):
    src = tmp_path / "raw"
    write_articles(src, range(6))
    # Ids sort "doc001" < "doc001_copy": the first in id order is kept.
    (src / "doc001_copy.txt").write_text(distinct_text(1), encoding="utf-8")
    near = distinct_text(2).replace("papa", "quebec")
    (src / "doc002b.txt").write_text(near, encoding="utf-8")
    result = build_corpus(small_config(tmp_path, [src], near_duplicate_threshold=0.8))
    corpus = Corpus.open(tmp_path / "build")
    assert "doc001_copy" not in corpus and "doc001" in corpus
    assert [(d.dropped, d.kept) for d in result.exact_duplicates] == [("doc001_copy", "doc001")]
    assert [(p.a, p.b) for p in result.near_duplicate_pairs] == [("doc002", "doc002b")]
    assert corpus.split_of("doc002") == corpus.split_of("doc002b")
    assert corpus.groups()["doc002"] == corpus.groups()["doc002b"] == "doc002"


def test_new_near_duplicate_joins_the_split_of_its_twin(tmp_path):
    src = tmp_path / "raw"
    write_articles(src, range(10))
    cfg = small_config(tmp_path, [src])
    build_corpus(cfg)
    first = load_assignments(cfg.splits_file)
    (src / "doc007b.txt").write_text(distinct_text(7).replace("papa", "zulu"), encoding="utf-8")
    build_corpus(cfg)
    assert load_assignments(cfg.splits_file)["doc007b"] == first["doc007"]


def test_jsonl_and_hf_dataset_inputs_and_jsonl_export(tmp_path):
    from datasets import Dataset

    jsonl = write_jsonl(
        tmp_path / "in.jsonl",
        [{"id": "j1", "text": distinct_text(1), "date": "2026-01-02", "outlet": "X"}, {"text": distinct_text(2)}],
    )
    hf_dir = tmp_path / "hf"
    Dataset.from_dict({"doc_id": ["h1"], "text": [distinct_text(3)]}).save_to_disk(str(hf_dir))
    records = list(read_source(jsonl)) + list(read_source(hf_dir))
    assert [r.doc_id for r in records][0] == "j1" and records[0].date == "2026-01-02"
    assert records[0].meta == {"outlet": "X"}
    assert len(records[1].doc_id) == 16, "an article without id gets its content hash"
    assert records[2].doc_id == "h1"

    build_corpus(small_config(tmp_path, [jsonl, hf_dir]))
    out = tmp_path / "export.jsonl"
    assert export_jsonl(tmp_path / "build", out) == 3
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["doc_id"] for r in rows} == {"j1", "h1", records[1].doc_id}
    assert next(r for r in rows if r["doc_id"] == "j1")["outlet"] == "X"
