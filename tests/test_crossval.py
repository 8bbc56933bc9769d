"""`workbench crossval`: folds of corpus groups, held-out documents never trained on, pooled scores summed over folds."""

from __future__ import annotations

import json

import pytest
from conftest import GOLD, build_repo_corpus
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.evaluation.bootstrap import BootstrapSettings
from workbench.evaluation.evaluate import DocOutcome, Evaluation, score_outcomes
from workbench.labels import EntityLabel, LabelScheme
from workbench.records import AnnotatedDoc, Entity
from workbench.training.crossval import assign_folds, default_fold_count, fold_spread, make_folds, pool_evaluations

runner = CliRunner()
TINY = ["--base-model", "none", "--training.max_steps", "4", "--training.eval_frequency", "2"]
# The bundled gold: 5 documents, 4 groups (configs/corpus.yml keeps 000 and 003 together).
KEPT_TOGETHER = ("000_2cb32350f79870a9", "003_140c4e8053404410")


# --- folds -----------------------------------------------------------------------------------

GROUPS = {"a": ["a1", "a2", "a3"], "b": ["b1"], "c": ["c1", "c2"], "d": ["d1"], "e": ["e1"]}
DOC_GROUPS = {doc: name for name, docs in GROUPS.items() for doc in docs}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("k", [3, 4, 5])
def test_folds_never_split_a_group_and_hold_out_every_document_once(k, seed):
    folds = make_folds(DOC_GROUPS, k, seed)
    assert len(folds) == k
    for name, docs in GROUPS.items():
        holding = [f.number for f in folds if set(docs) & set(f.held_out)]
        assert len(holding) == 1 and set(docs) <= set(folds[holding[0] - 1].held_out), (name, holding)
        for fold in folds:  # a group is wholly in train, dev or held out of every fold
            assert sum(set(docs) <= set(part) for part in (fold.train, fold.dev, fold.held_out)) == 1
    assert sorted(d for f in folds for d in f.held_out) == sorted(DOC_GROUPS)
    for i, fold in enumerate(folds):
        assert not set(fold.held_out) & (set(fold.train) | set(fold.dev))
        assert fold.dev == folds[(i + 1) % k].held_out  # the next fold is the inner dev set
        assert sorted(fold.train + fold.dev + fold.held_out) == sorted(DOC_GROUPS)


def test_fold_sizes_are_balanced_largest_group_first():
    # k=3: a (3 docs) -> fold 1 [3,0,0]; c (2) -> fold 2 [3,2,0]; the three single documents, whatever
    # their seeded order: fold 3 [3,2,1], fold 3 again (fewest, 1) [3,2,2], then fold 2 (tie 2/2, lower) [3,3,2].
    for seed in range(5):
        folds = assign_folds(GROUPS, 3, seed)
        assert [sum(len(GROUPS[g]) for g in fold) for fold in folds] == [3, 3, 2]
        assert folds[0] == ["a"] and folds[1][0] == "c"


def test_folds_are_seeded_and_do_not_depend_on_input_order():
    reordered = dict(reversed(list(DOC_GROUPS.items())))
    assert make_folds(DOC_GROUPS, 3, seed=7) == make_folds(reordered, 3, seed=7)
    # The single-document groups b, d, e share folds 2 and 3 in a seeded order: some seed moves them.
    layouts = {tuple(f.held_out for f in make_folds(DOC_GROUPS, 3, seed)) for seed in range(10)}
    assert len(layouts) > 1


def test_fold_count_defaults_and_errors():
    assert default_fold_count(4) == 4 and default_fold_count(10) == 10 and default_fold_count(11) == 5
    assert len(make_folds(DOC_GROUPS)) == 5  # 5 groups: leave one group out
    with pytest.raises(WorkbenchError, match="--folds 6 is more than the 5 groups"):
        make_folds(DOC_GROUPS, 6)
    with pytest.raises(WorkbenchError, match="no fold is left to be an inner dev set"):
        make_folds(DOC_GROUPS, 2)
    two = make_folds(DOC_GROUPS, 2, select_on_train=True)
    assert [f.dev for f in two] == [(), ()] and two[0].train == two[1].held_out


# --- pooling, by hand --------------------------------------------------------------------------


def _doc(doc_id: str, spans: list[tuple[str, int, int]]) -> AnnotatedDoc:
    text = "Alice Smith met ACME Corp and Bob Jones in Paris today."
    return AnnotatedDoc(doc_id, text, [Entity(i, label, start, end) for i, (label, start, end) in enumerate(spans)])


SCHEME = LabelScheme("hand", {name: EntityLabel(name) for name in ("PER", "ORG")})


def _fold(outcomes: list[DocOutcome]) -> Evaluation:
    return Evaluation(
        model="fold", split=None, doc_ids=[o.gold.doc_id for o in outcomes], scheme=SCHEME,
        scores=score_outcomes(outcomes, SCHEME), outcomes=outcomes, bootstrap=BootstrapSettings(200, 0),
    )


def test_pooled_scores_sum_the_folds_counts_by_hand():
    fold_a = _fold([
        # doc1: PER exact (TP); ORG one character short (FP 16-24 and FN 16-25): tp 1, fp 1, fn 1
        DocOutcome(_doc("doc1", [("PER", 0, 11), ("ORG", 16, 25)]), _doc("doc1", [("PER", 0, 11), ("ORG", 16, 24)])),
        # doc2: PER exact (TP) and a spurious PER: tp 1, fp 1, fn 0
        DocOutcome(_doc("doc2", [("PER", 0, 11)]), _doc("doc2", [("PER", 0, 11), ("PER", 30, 39)])),
    ])
    # doc3: three gold entities, nothing predicted: tp 0, fp 0, fn 3 (PER 30-39, ORG 16-25, ORG 43-48)
    fold_b = _fold([DocOutcome(_doc("doc3", [("PER", 30, 39), ("ORG", 16, 25), ("ORG", 43, 48)]), _doc("doc3", []))])
    metrics = pool_evaluations([fold_a, fold_b], "pooled").metrics()
    micro = metrics["ner"]["micro"]
    # Pooled: tp 2, fp 2, fn 4 -> P 2/4 = 0.5, R 2/6 = 0.333333, F1 = 2*2 / (2*2 + 2 + 4) = 0.4.
    assert (micro["tp"], micro["fp"], micro["fn"]) == (2, 2, 4)
    assert (micro["precision"], micro["recall"], micro["f1"]) == (0.5, 0.333333, 0.4)
    # PER: tp 2 (doc1, doc2), fp 1 (doc2), fn 1 (doc3) -> P = R = 2/3; ORG: tp 0, fp 1, fn 3.
    per = metrics["ner"]["per_label"]
    assert (per["PER"]["precision"], per["PER"]["recall"]) == (0.666667, 0.666667)
    assert (per["ORG"]["tp"], per["ORG"]["fp"], per["ORG"]["fn"]) == (0, 1, 3)
    # 3 pooled documents are fewer than an interval needs (bootstrap.MIN_INTERVAL_DOCUMENTS).
    assert metrics["document_ids"] == ["doc1", "doc2", "doc3"] and metrics["ner"]["ci"] is None
    # Per fold, A: tp 2 fp 2 fn 1 -> P 0.5, R 2/3, F1 4/7 = 0.571429; B: P undefined, R 0, F1 0.
    # The fold F1 mean, 0.285714, is not the pooled 0.4: pooling sums counts, it does not average folds.
    spread = fold_spread([
        {"ner": {"precision": 0.5, "recall": 0.666667, "f1": 0.571429, "tp": 2, "fp": 2, "fn": 1}},
        {"ner": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 0, "fn": 3}},
    ])["ner"]
    assert spread["f1"] == {"min": 0.0, "max": 0.571429, "mean": 0.285714, "sd": 0.404061, "folds": 2}
    assert spread["precision"] == {"min": 0.5, "max": 0.5, "mean": 0.5, "sd": None, "folds": 1}  # B's is undefined


def test_pooled_folds_keep_the_intervals_no_fold_has_alone():
    # Ten folds of one document each: no fold reaches the 10 documents an interval needs; pooled, they do,
    # because the pooled evaluation resamples every held-out document through evaluate's own bootstrap.
    folds = [
        _fold([DocOutcome(_doc(f"doc{i}", [("PER", 0, 11), ("ORG", 16, 25)]), _doc(f"doc{i}", [("PER", 0, 11)] + [("ORG", 16, 24)] * (i % 2)))])
        for i in range(10)
    ]
    assert all(fold.metrics()["ner"]["ci"] is None for fold in folds)
    metrics = pool_evaluations(folds, "pooled").metrics()
    assert metrics["bootstrap"]["documents"] == 10 and metrics["bootstrap"]["intervals"] is True
    # PER is found in every document (precision 1 in every resample); ORG is one character short in the 5 odd ones.
    assert metrics["ner"]["ci"]["per_label"]["PER"]["precision"] == {"lo": 1.0, "hi": 1.0}
    assert metrics["ner"]["micro"]["precision"] == round(10 / 15, 6)
    micro = metrics["ner"]["ci"]["micro"]["precision"]
    assert micro["lo"] < 10 / 15 < micro["hi"]


# --- end to end, tiny training -----------------------------------------------------------------


@pytest.fixture(scope="module")
def crossval_run(tmp_path_factory):
    """`workbench crossval` on the bundled gold and corpus, at 4 training steps per model."""
    tmp = tmp_path_factory.mktemp("crossval")
    corpus = build_repo_corpus(tmp).output
    out = tmp / "cv"
    result = runner.invoke(app, ["crossval", str(GOLD), "--corpus", corpus, "-o", str(out), "--bootstrap", "200", *TINY])
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "metrics.json").read_text()), result.output


def test_crossval_leaves_one_group_out_and_keeps_groups_together(crossval_run):
    _, metrics, output = crossval_run
    folds = metrics["folds"]
    assert metrics["crossval"]["folds"] == len(folds) == 4  # 4 groups: leave one group out
    assert any(tuple(f["held_out"]) == KEPT_TOGETHER for f in folds)
    assert sorted(d for f in folds for d in f["held_out"]) == sorted(metrics["document_ids"]) and metrics["documents"] == 5
    assert "pooled over 5 documents in 4 folds" in output


def test_no_held_out_document_is_in_its_folds_training_docbins(crossval_run):
    import spacy

    import workbench.docs  # noqa: F401  (registers doc._.doc_id)
    from workbench.training.tune import read_docbin

    out, metrics, _ = crossval_run
    nlp = spacy.blank("en")
    for fold in metrics["folds"]:
        fold_dir = out / "folds" / f"fold-{fold['fold']}"
        train = [d._.doc_id for d in read_docbin(nlp, fold_dir / "train.spacy")]
        dev = [d._.doc_id for d in read_docbin(nlp, fold_dir / "dev.spacy")]
        assert sorted(train) == fold["train"] and sorted(dev) == fold["dev"]  # the DocBins hold what the fold says
        assert not set(fold["held_out"]) & (set(train) | set(dev))


def test_pooled_counts_equal_the_sum_of_the_folds(crossval_run):
    _, metrics, _ = crossval_run
    pooled = {"ner": metrics["ner"], "rel": metrics["rel"], "rel_gold_entities": metrics["rel"]["gold_entities"]}
    for task, scores in pooled.items():
        for count in ("tp", "fp", "fn"):
            assert scores["micro"][count] == sum(f[task][count] for f in metrics["folds"]), (task, count)
    gazetteer = metrics["baselines"]["gazetteer"]["ner"]["micro"]
    for count in ("tp", "fp", "fn"):
        assert gazetteer[count] == sum(f["gazetteer"]["ner"][count] for f in metrics["folds"])
    # Every gold entity of the 5 documents is counted once: 118 + 79 + 36 + 49 + 22 = 304.
    assert metrics["ner"]["micro"]["tp"] + metrics["ner"]["micro"]["fn"] == 304


def test_five_pooled_documents_give_no_interval_and_say_what_would(crossval_run):
    out, metrics, output = crossval_run
    # Every document held out once, but 5 are fewer than an interval needs; nothing is left to point to but more gold.
    assert metrics["bootstrap"]["intervals"] is False and metrics["bootstrap"]["documents"] == 5
    assert metrics["ner"]["ci"] is None and metrics["rel"]["gold_entities"]["ci"] is None
    advice = "intervals need at least 10 gold documents: annotate more"
    report = (out / "report.md").read_text()
    assert "I" + advice[1:] in report and advice in output and "workbench crossval GOLD" not in report
    # No held-out document chose anything for the model that predicted it.
    assert metrics["selection"] == {"checked": True, "documents": []} and "chose the model's" not in output
    assert "## Cross-validation: 4 folds" in report and "inner dev" in report
    assert "pooled and scored once below, all 5 documents together." in report
    assert (out / "report.html").read_text().count("Cross-validation: 4 folds") >= 1


def test_thresholds_are_worded_per_fold_and_pooled_apart(crossval_run):
    out, metrics, output = crossval_run
    pooled = metrics["crossval"]["pooled_thresholds"]
    # The pooled support of a type is every gold relation of it, once: the gold-entity support.
    for label, row in pooled["per_type"].items():
        assert row["support"] == metrics["rel"]["gold_entities"]["per_label"][label]["support"]
    # The bundled gold has 5 MET relations, fewer than the default 20: no recommendation, said so.
    assert pooled["per_type"]["MET"]["note"] == "no recommendation, not tuned (the pooled folds have 5 < 20 relations of this type)"
    # Every fold's inner dev fold has fewer than 20 MET relations, so no fold tuned MET and each says why.
    for fold in metrics["folds"]:
        assert fold["threshold_notes"]["MET"].startswith("kept at the config's 0.5, not tuned (dev has ")
    report = (out / "report.md").read_text()
    assert "### Relation thresholds recommended from the pooled out-of-fold scores" in report and "optimistic" in report
    assert "relation thresholds from the pooled out-of-fold scores" in output


def test_same_inputs_give_the_same_folds_and_pooled_scores(crossval_run, tmp_path):
    out, metrics, _ = crossval_run
    corpus = build_repo_corpus(tmp_path).output
    result = runner.invoke(app, ["crossval", str(GOLD), "--corpus", corpus, "-o", str(tmp_path / "again"), "--bootstrap", "200", *TINY])
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())
    # Everything but the wall times and the date the report was written.
    strip = lambda m: {  # noqa: E731
        **m,
        "folds": [{k: v for k, v in f.items() if k != "train_seconds"} for f in m["folds"]],
        "provenance": {k: v for k, v in m["provenance"].items() if k != "date"},
    }
    assert strip(again) == strip(metrics)


def test_compare_reads_crossval_runs(crossval_run, tmp_path):
    from workbench.evaluation.compare import compare_runs

    out, metrics, _ = crossval_run
    result = runner.invoke(app, ["compare", str(out), str(out), "-o", str(tmp_path / "cmp.json")])
    assert result.exit_code == 0, result.output
    assert "pooled out-of-fold predictions of 4-fold cross-validation" in result.output
    assert json.loads((tmp_path / "cmp.json").read_text())["regressions"] == []
    split_run = {k: v for k, v in metrics.items() if k not in ("crossval", "folds")}
    assert any("one run is cross-validated" in note for note in compare_runs(metrics, split_run)["notes"])


def test_too_many_folds_is_a_clear_error(tmp_path):
    corpus = build_repo_corpus(tmp_path).output
    result = runner.invoke(app, ["crossval", str(GOLD), "--corpus", corpus, "--folds", "5", "-o", str(tmp_path / "cv"), *TINY])
    assert result.exit_code == 1
    assert "--folds 5 is more than the 4 groups" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "cv").exists()


def test_corpus_without_groups_is_a_clear_error():
    from workbench.corpus.store import document_groups

    with pytest.raises(WorkbenchError, match="built before groups were stored"):
        document_groups({"d1": {"split": "train"}}, "corpus/build")
