"""Corpus build at scale: empty articles refused, MinHash near-duplicates checked against exact Jaccard, shards, the bench."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from conftest import small_config, write_jsonl
from typer.testing import CliRunner

from workbench.cli import app
from workbench.corpus.build import build_corpus
from workbench.corpus.dedupe import MINHASH_SEED, MinHashSettings, NearDuplicateFinder, equal_row_pairs, shingles
from workbench.corpus.store import Corpus, load_corpus
from workbench.corpus.synthetic import number_of, write_synthetic_corpus
from workbench.errors import WorkbenchError


def test_shingles_are_lowercased_word_ngrams_without_punctuation():
    # "The cat, the HAT." -> words the cat the hat -> 2-grams: "the cat", "cat the", "the hat".
    assert shingles("The cat, the HAT.", 2) == ["the cat", "cat the", "the hat"]
    assert shingles("Short text", 3) == ["short text"]
    assert shingles("...", 3) == ["..."], "punctuation-only text still gets one token"


def test_minhash_settings_are_checked():
    with pytest.raises(WorkbenchError, match="multiple of minhash_bands"):
        MinHashSettings(num_perm=100, bands=32).check()
    with pytest.raises(WorkbenchError, match="threshold"):
        MinHashSettings(threshold=0).check()


@pytest.mark.parametrize(
    "name, content",
    [("blank.txt", "   \n\t \n"), ("header_only.txt", " date 2026-03-04 \n  \n"), ("empty.txt", "")],
)
def test_empty_txt_article_is_refused_and_nothing_is_written(tmp_path, name, content):
    src = tmp_path / "raw"
    src.mkdir()
    (src / "a.txt").write_text("One real article about a meeting in Ankara.", encoding="utf-8")
    cfg = small_config(tmp_path, [src])
    build_corpus(cfg)
    lock_before = (tmp_path / "splits.json").read_bytes()
    (src / name).write_text(content, encoding="utf-8")
    with pytest.raises(WorkbenchError) as err:
        build_corpus(cfg)
    assert str(err.value) == f"{src / name}: empty article: no text, or only whitespace"
    assert (tmp_path / "splits.json").read_bytes() == lock_before, "the empty article must not enter the lock file"
    assert set(Corpus.open(cfg.output).doc_ids) == {"a"}, "the corpus built before stays as it was"


def test_empty_jsonl_article_names_file_and_line_and_cli_prints_one_line(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": "Some text."}, {"id": "y", "text": " \n "}])
    result = CliRunner().invoke(
        app,
        ["corpus", "build", str(path), "--output", str(tmp_path / "build"), "--splits-file", str(tmp_path / "s.json"),
         "--config", str(tmp_path / "none.yml")],
    )
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {path}:2: empty article: no text, or only whitespace"
    assert not (tmp_path / "s.json").exists() and not (tmp_path / "build").exists()


def test_empty_row_in_a_saved_dataset_names_the_folder_and_row(tmp_path):
    from datasets import Dataset

    Dataset.from_dict({"doc_id": ["h1", "h2"], "text": ["Text.", "\t"]}).save_to_disk(str(tmp_path / "hf"))
    with pytest.raises(WorkbenchError, match=r"hf: empty article at \[1\]: no text"):
        build_corpus(small_config(tmp_path, [tmp_path / "hf"]))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """300 synthetic articles, about 10% of them planted copies with 5-10% of their words edited."""
    folder = tmp_path_factory.mktemp("synthetic")
    corpus = write_synthetic_corpus(folder / "raw", 300, duplicate_share=0.1, seed=3)
    texts = {}
    for file in corpus.files:
        for line in file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts[row["id"]] = row["text"]
    return folder, corpus, texts


def test_minhash_pairs_agree_with_exact_jaccard(tmp_path, synthetic):
    folder, corpus, texts = synthetic
    result = build_corpus(small_config(tmp_path, [folder / "raw"]))  # threshold 0.5, 128 permutations, 3-grams
    sets = {doc_id: set(shingles(text, 3)) for doc_id, text in texts.items()}
    exact = {}
    for a, b in itertools.combinations(sorted(sets), 2):
        jaccard = len(sets[a] & sets[b]) / len(sets[a] | sets[b])
        if jaccard > 0.2:
            exact[(a, b)] = jaccard
    found = {(p.a, p.b): p.score for p in result.near_duplicate_pairs}
    # Every planted copy is similar (edits of 5-10% keep Jaccard well above 0.4), and no unrelated pair is.
    planted = {(a, b) for a, b in exact if corpus.families[number_of(a)] == corpus.families[number_of(b)]}
    assert planted == set(exact) and len(planted) >= 20
    # MinHash with 128 permutations estimates Jaccard within about 3 standard deviations (0.13 at J = 0.5).
    for pair, score in found.items():
        assert abs(score - exact[pair]) < 0.13, (pair, score, exact[pair])
    assert {p for p, j in exact.items() if j >= 0.62} <= set(found), "clear near-duplicates must all be found"
    assert set(found) <= {p for p, j in exact.items() if j >= 0.38}


def test_equal_row_pairs():
    rows = np.array([[1, 2], [3, 4], [1, 2], [1, 2], [3, 4], [5, 6], [2, 1]], dtype=np.uint32)
    # Rows 0, 2, 3 are [1, 2]: pairs 0-2, 0-3, 2-3; rows 1 and 4 are [3, 4]; [5, 6] and [2, 1] are alone.
    assert sorted(map(tuple, equal_row_pairs(rows).tolist())) == [(0, 2), (0, 3), (1, 4), (2, 3)]
    assert equal_row_pairs(rows[:1]).shape == (0, 2)


def test_lsh_pairs_agree_with_brute_force_over_all_pairs(synthetic):
    from rensa import RMinHash

    _, corpus, texts = synthetic
    settings = MinHashSettings()  # threshold 0.5, 128 permutations in 32 bands of 4
    ordered = [texts[doc_id] for doc_id in sorted(texts)]
    finder = NearDuplicateFinder(settings)
    finder._CHUNK_BITS = 4  # chunks of 16 signatures, so that shards straddle chunks
    for start, end in [(0, 5), (5, 137), (137, len(ordered))]:
        assert finder.add(ordered[start:end]) == start
    # Independently: every pair's signatures straight from rensa, compared position by position.
    sketches = RMinHash.from_token_sets([shingles(t, 3) for t in ordered], 128, MINHASH_SEED)
    signatures = np.array([m.digest() for m in sketches], dtype=np.uint32)
    equal = signatures[:, None, :] == signatures[None, :, :]
    shares_band = equal.reshape(len(ordered), len(ordered), 32, 4).all(axis=3).any(axis=2)
    score = equal.mean(axis=2)
    expected = [
        (i, j, round(float(score[i, j]), 4))
        for i, j in itertools.combinations(range(len(ordered)), 2)
        if shares_band[i, j] and score[i, j] >= 0.5
    ]
    assert finder.pairs() == expected and len(expected) >= 20
    assert np.array_equal(finder.signatures(np.array([299, 3, 16])), signatures[[299, 3, 16]])


@pytest.mark.filterwarnings("ignore::FutureWarning")  # pyarrow's notice about the sort options datasets passes
def test_corpus_writer_stores_what_save_to_disk_stores(tmp_path):
    import random

    from datasets import Dataset, load_from_disk

    from workbench.corpus.store import COLUMNS, CorpusWriter

    rows = [{name: f"{name}-{n}" for name in COLUMNS} | {"doc_id": f"d{n:03d}", "date": None if n % 3 else "2026-01-02"}
            for n in range(50)]
    random.Random(0).shuffle(rows)
    writer = CorpusWriter(tmp_path / "ours", run_rows=7)  # 8 runs to merge
    for row in rows:
        writer.write(row)
    writer.finish()
    # The same rows through the datasets library's own sort and save_to_disk.
    Dataset.from_list(rows).sort("doc_id").save_to_disk(str(tmp_path / "theirs"))
    ours, theirs = load_corpus(tmp_path / "ours"), load_from_disk(str(tmp_path / "theirs"))
    assert ours.to_list() == theirs.to_list() and [r["doc_id"] for r in ours] == [f"d{n:03d}" for n in range(50)]
    assert ours.features == theirs.features
    state = {name: json.loads((tmp_path / name / "state.json").read_text()) for name in ("ours", "theirs")}
    assert {k: v for k, v in state["ours"].items() if k != "_fingerprint"} == {
        k: v for k, v in state["theirs"].items() if k != "_fingerprint"}
    assert sorted(p.name for p in (tmp_path / "ours").iterdir()) == sorted(p.name for p in (tmp_path / "theirs").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ours", "theirs"], "the sorted runs are removed"


def test_shards_change_nothing(tmp_path, synthetic):
    folder, _, _ = synthetic
    whole = build_corpus(small_config(tmp_path / "whole", [folder / "raw"]))
    sharded = build_corpus(small_config(tmp_path / "sharded", [folder / "raw"], shard_size=7))
    assert sharded.near_duplicate_pairs == whole.near_duplicate_pairs and len(whole.near_duplicate_pairs) > 0
    assert (tmp_path / "sharded" / "splits.json").read_text() == (tmp_path / "whole" / "splits.json").read_text()
    ids = load_corpus(tmp_path / "sharded" / "build")["doc_id"]
    assert ids == sorted(ids), "rows are stored in id order whatever the shards"


def test_exact_duplicate_keeps_the_smallest_id_even_when_it_comes_last(tmp_path, synthetic):
    _, _, texts = synthetic
    first, second = sorted(texts)[:2]
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [{"id": "zz", "text": texts[first]}, {"id": "b", "text": texts[second]}, {"id": "aa", "text": texts[first]}],
    )
    result = build_corpus(small_config(tmp_path, [path]))
    assert [(d.dropped, d.kept, d.source) for d in result.exact_duplicates] == [("zz", "aa", f"{path}:1")]
    assert set(Corpus.open(tmp_path / "build").doc_ids) == {"aa", "b"}


def test_bench_scores_planted_pairs(tmp_path):
    from workbench.corpus.bench import bench_corpus
    from workbench.corpus.build import CorpusConfig

    r = bench_corpus(400, CorpusConfig(), duplicate_share=0.1, seed=1, work_dir=tmp_path)
    assert r.articles == 400 and r.planted_pairs >= 30
    assert r.true_pairs == r.found_pairs and r.mixed_groups == 0
    assert r.recall >= 0.9 and r.planted_pairs_in_one_split == r.planted_pairs


def _hold(size: int) -> int:
    """Runs in the measured child: writes `size` bytes, so that they are resident."""
    return int(np.ones(size, dtype=np.uint8).sum())


def test_run_measured_reports_the_child_process_peak_in_bytes():
    from workbench.corpus.bench import run_measured

    size = 200 * 1024**2
    idle, holding = run_measured(_hold, 0), run_measured(_hold, size)
    assert holding.value == size
    # The same fresh interpreter, once with 200 MiB more written: its peak grows by that much. A peak read
    # in KiB as bytes, or one that counts this process's memory, would not: a spawned child's ru_maxrss
    # starts from its parent's resident set (that measurement failed here with 257 MB and 307 MB).
    assert 0.9 * size < holding.peak_bytes - idle.peak_bytes < 1.1 * size


def test_synthetic_words_and_layout():
    from workbench.corpus.synthetic import VOCABULARY, ArticleMaker

    maker, plain = ArticleMaker(5), ArticleMaker(5)
    # The guide table gives exactly the inverse-CDF answer of a plain searchsorted on the same numbers.
    drawn = maker.draw(50_000)
    expected = np.searchsorted(plain.cdf, plain.rng.random(50_000)).clip(max=VOCABULARY - 1)
    assert np.array_equal(drawn, expected)
    words, layout = maker.original()
    text = maker.render(words, layout)
    # Layout only adds capitals, commas, full stops and paragraph breaks: the words are the drawn ones, in order.
    assert [token.strip(",.").lower() for token in text.split()] == maker.words[words].tolist()
    sentences = [s for s in text.replace("\n\n", " ").split(". ") if s]
    assert all(8 <= len(s.split()) <= 30 for s in sentences[:-1])
    assert text == ArticleMaker(5).render(words, layout) and text.endswith(".")


def test_synthetic_corpus_is_deterministic(tmp_path):
    first = write_synthetic_corpus(tmp_path / "a", 120, duplicate_share=0.2, seed=4)
    second = write_synthetic_corpus(tmp_path / "b", 120, duplicate_share=0.2, seed=4)
    assert [f.read_bytes() for f in first.files] == [f.read_bytes() for f in second.files]
    assert np.array_equal(first.families, second.families) and len(set(first.families.tolist())) < 120
