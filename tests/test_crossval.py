"""`workbench crossval`: folds of corpus groups, held-out documents never trained on, pooled scores summed over folds."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import GOLD, build_repo_corpus
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.metrics import BootstrapSettings
from workbench.evaluation.evaluate import DocOutcome, Evaluation, score_outcomes
from workbench.labels import EntityLabel, LabelScheme
from workbench.records import AnnotatedDoc, Entity
from workbench.experiments.crossval import assign_folds, default_fold_count, fold_spread, make_folds, pool_evaluations

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
    from workbench.docs import read_docbin

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


def test_thresholds_are_cut_end_to_end_and_summed_over_types(crossval_run):
    # The 4-step folds keep no relation, so the counts here only show the wiring; that re-cut cells give
    # evaluate's counts with relations right and wrong is tests/test_evaluate.py's end-to-end cells test.
    out, metrics, output = crossval_run
    pooled, rel = metrics["crossval"]["pooled_thresholds"], metrics["rel"]
    assert pooled["scored_on"].startswith("end to end")

    def counts(row: dict) -> tuple:
        return row["tp"], row["fp"], row["gold"]

    # Cut where each fold ran, the candidates' end-to-end cells give exactly the counts evaluate scored, type by type.
    for label, row in pooled["per_type"].items():
        scored = rel["per_label"][label]
        assert counts(row["as_run"]) == (scored["tp"], scored["fp"], scored["tp"] + scored["fn"]), label
    micro = rel["micro"]
    assert counts(pooled["all_types"]["as_run"]) == (micro["tp"], micro["fp"], micro["tp"] + micro["fn"])
    assert pooled["all_types"]["nested"]["gold"] == micro["tp"] + micro["fn"]
    assert "all types, as run: P / R / F1" in output and "at the nested cuts" in output
    assert "| **all types** |" in (out / "report.md").read_text()


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
    from workbench.corpus.store import Corpus

    with pytest.raises(WorkbenchError, match="built before groups were stored"):
        Corpus("corpus/build", {"d1": {"split": "train"}}).groups()


# --- each fold's patterns come from its training documents only ------------------------------------


def test_fold_patterns_never_hold_text_found_only_in_the_folds_held_out_documents(crossval_run):
    import spacy
    from spacy.matcher import Matcher

    import workbench.docs  # noqa: F401  (registers doc._.doc_id)
    from workbench.records import read_records
    from workbench.docs import read_docbin

    out, metrics, _ = crossval_run
    records = {r.doc_id: r for r in read_records(GOLD)}
    nlp = spacy.blank("en")
    checked = 0
    for fold in metrics["folds"]:
        fold_dir = out / "folds" / f"fold-{fold['fold']}"
        patterns = [json.loads(line) for line in (fold_dir / "patterns.jsonl").read_text(encoding="utf-8").splitlines()]
        assert patterns, fold["fold"]  # the label config asks for ROLE and LOC patterns; every fold's training gold has some
        train_docs = read_docbin(nlp, fold_dir / "train.spacy")
        train_text = " ".join(doc.text for doc in train_docs).lower()
        # Entity texts of the held-out documents that no training document contains, in any case.
        held_out_texts = {records[d].text[e.start : e.end].lower() for d in fold["held_out"] for e in records[d].entities}
        held_out_only = {text for text in held_out_texts if text not in train_text}
        for pattern in patterns:
            surface = pattern["pattern"] if isinstance(pattern["pattern"], str) else " ".join(t.get("LOWER", "*") for t in pattern["pattern"])
            assert surface.lower() not in held_out_only, (fold["fold"], surface)
            # Independently: every pattern matches at least once in the fold's own training documents.
            matcher = Matcher(nlp.vocab)
            tokens = pattern["pattern"] if isinstance(pattern["pattern"], list) else [{"ORTH": t.text} for t in nlp.make_doc(pattern["pattern"])]
            matcher.add("p", [tokens])
            assert any(matcher(doc) for doc in train_docs), (fold["fold"], pattern)
            checked += 1
        # The canary: a fold that holds out 001 cannot know "spokesperson", a title only 001 has.
        if "001_05c9d2cdeba1758c" in fold["held_out"]:
            assert "spokesperson" in held_out_only
            assert not any("spokesperson" in json.dumps(p["pattern"]).lower() for p in patterns)
    assert checked > 0


# --- the final model on every gold document ------------------------------------------------------------


@pytest.fixture(scope="module")
def final_run(crossval_run, tmp_path_factory):
    """`workbench train final` from the tiny crossval report: every gold document, its steps and thresholds."""
    out, metrics, _ = crossval_run
    tmp = tmp_path_factory.mktemp("final")
    corpus = build_repo_corpus(tmp).output
    # The 4-step folds find no gold entity end to end, so no cut can be recommended there; a copy of
    # the report gets HAS_ROLE one, as a real run's report has, for train final to apply.
    report = tmp / "cv"
    shutil.copytree(out, report)
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    per_type = metrics["crossval"]["pooled_thresholds"]["per_type"]
    per_type["HAS_ROLE"].update(status="tuned", recommended=0.375, note="recommended 0.375 (written by the test)")
    (report / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    model, runs = tmp / "model", tmp / "runs"
    args = ["train", "final", str(GOLD), "--crossval", str(report), "--corpus", corpus, "--run-dir", str(runs), "-o", str(model)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return model, runs, metrics, result.output, corpus


def test_final_model_trains_on_exactly_the_gold_documents(final_run):
    import hashlib

    model, _, _, output, _ = final_run
    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    gold = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    # The ids and text hashes, computed here from the gold file itself.
    expected = sorted((r["doc_id"], hashlib.sha256(r["text"].encode("utf-8")).hexdigest()) for r in gold)
    trained = meta["workbench"]["training"]["train"]
    assert sorted(zip(trained["doc_ids"], trained["text_sha256"])) == expected and trained["documents"] == 5
    assert meta["workbench"]["training"]["dev"]["doc_ids"] == []  # nothing was chosen on any document
    assert sorted((d["doc_id"], d["sha256"]) for d in meta["workbench"]["card"]["training_documents"]) == expected
    assert "trained on 5 gold documents" in output


def test_final_model_trains_for_the_folds_median_best_step_with_the_pooled_thresholds(final_run):
    import statistics

    import spacy

    model, runs, metrics, output, _ = final_run
    for part in ("ner", "rel"):
        steps = [fold["best_step"][part] for fold in metrics["folds"]]
        expected = max(1, int(statistics.median(steps) + 0.5))
        card = json.loads((model / "meta.json").read_text(encoding="utf-8"))["workbench"]["card"]["steps"][part]
        assert (card["steps"], card["folds"]) == (expected, steps)
        # The checkpoint that was installed is the one taken at that step (the callback wrote it into its meta).
        part_meta = json.loads((runs / f"pipeline-{part}" / "meta.json").read_text(encoding="utf-8"))
        assert part_meta["workbench_step"] == expected, (part, steps)
    component = spacy.load(model).get_pipe("relation_extractor")
    per_type = metrics["crossval"]["pooled_thresholds"]["per_type"]
    for label, row in per_type.items():
        # A type with a pooled recommendation runs at it (HAS_ROLE, from the fixture); the others keep the config's 0.5.
        expected = row["recommended"] if row["recommended"] is not None else 0.5
        assert component.thresholds[label] == pytest.approx(expected), label
    # The model runs at the recommended cuts, so its end-to-end estimate is the folds' at their nested cuts.
    estimate = json.loads((model / "meta.json").read_text(encoding="utf-8"))["workbench"]["card"]["estimate"]
    nested = metrics["crossval"]["pooled_thresholds"]["all_types"]["nested"]
    at_cuts = estimate["rel_at_thresholds"]["micro"]
    assert (at_cuts["precision"]["value"], at_cuts["recall"]["value"], at_cuts["support"]) == (nested["precision"], nested["recall"], nested["gold"])
    card_text = (model / "README.md").read_text(encoding="utf-8")
    assert "## Relations end to end, at this model's thresholds" in card_text and "REL end to end at its thresholds (nested)" in output
    assert "**No held-out score.**" in card_text and "it has no held-out score of its own" in card_text
    assert "no held-out score of its own" in output


def test_evaluate_refuses_a_models_own_training_documents(final_run, tmp_path):
    model, _, _, _, corpus = final_run
    base = ["evaluate", "--model", str(model), "--corpus", corpus, "--no-baselines", "--no-html", "--bootstrap", "0"]
    refused = runner.invoke(app, [*base, "--data", str(GOLD), "-o", str(tmp_path / "refused")])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "the model trained on 5 of the 5 documents to evaluate" in refused.output and not (tmp_path / "refused").exists()
    # A renamed copy of a gold document is still one of them: its text hash gives it away.
    record = json.loads(GOLD.read_text(encoding="utf-8").splitlines()[1])
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text(json.dumps({**record, "doc_id": "renamed"}) + "\n", encoding="utf-8")
    again = runner.invoke(app, ["evaluate", "--model", str(model), "--data", str(renamed), "-o", str(tmp_path / "r2"),
                                "--no-baselines", "--no-html", "--bootstrap", "0", "--corpus", str(tmp_path / "none")])
    assert again.exit_code == 1 and "trained on 1 of the 1 document to evaluate (renamed)" in again.output
    # Asked to, it scores them and marks every figure.
    marked = runner.invoke(app, [*base, "--data", str(GOLD), "-o", str(tmp_path / "marked"), "--allow-training-documents"])
    assert marked.exit_code == 0, marked.output
    metrics = json.loads((tmp_path / "marked" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["held_out"] is False and sorted(metrics["trained_on"]) == sorted(metrics["document_ids"])
    assert "NOT HELD OUT (the model trained on 5 of them)" in marked.output
    assert "NOT HELD OUT: the model trained on 5 of the 5 evaluated documents" in (tmp_path / "marked" / "report.md").read_text(encoding="utf-8")


def test_final_refuses_a_crossval_report_of_other_files(crossval_run, tmp_path):
    out, _, _ = crossval_run
    corpus = build_repo_corpus(tmp_path).output
    other = tmp_path / "labels.yml"
    other.write_text((GOLD.parents[2] / "configs" / "labels.yml").read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    result = runner.invoke(app, ["train", "final", str(GOLD), "--crossval", str(out), "--corpus", corpus, "--labels", str(other),
                                 "--run-dir", str(tmp_path / "runs"), "-o", str(tmp_path / "model")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "the crossval report was made with another label config" in result.output and not (tmp_path / "model").exists()


def test_a_span_ruler_in_the_pipeline_survives_spacy_load_in_a_fresh_process(final_run):
    import subprocess
    import sys

    model, *_ = final_run
    saved = [json.loads(line) for line in (model / "span_ruler" / "patterns").read_text(encoding="utf-8").splitlines()]
    phrase = next(p for p in saved if isinstance(p["pattern"], str) and p["label"] == "ROLE")
    code = (
        "import json, sys, spacy\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "ruler = nlp.get_pipe('span_ruler')\n"
        "doc = nlp('Yesterday the ' + sys.argv[2] + ' arrived.')\n"
        "print(json.dumps({'pipes': nlp.pipe_names, 'patterns': len(ruler.patterns),"
        " 'ents': [(e.text, e.label_) for e in doc.ents]}))\n"
    )
    # A fresh interpreter that never imported workbench: spaCy finds everything through the package's entry points.
    done = subprocess.run([sys.executable, "-c", code, str(model), phrase["pattern"]], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    pipes = loaded["pipes"]  # the tiny crossval trains the -scratch configs, which have their own tok2vec
    assert pipes[:2] == ["sentencizer", "span_ruler"] and pipes.index("span_ruler") < pipes.index("ner") < pipes.index("relation_extractor")
    assert loaded["patterns"] == len(saved)
    # Before the NER, the ruler's span stands whatever the (4-step) NER would say.
    assert (phrase["pattern"], "ROLE") in [tuple(e) for e in loaded["ents"]]
