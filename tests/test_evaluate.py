"""Evaluation: our strict scores equal spaCy's Scorer; train, predict and evaluate through the CLI."""

from __future__ import annotations

import html
import json

import pytest
import spacy
from conftest import GOLD, ROOT
from spacy.scorer import Scorer
from spacy.training import Example
from typer.testing import CliRunner

from workbench.cli import app
from workbench.docs import record_to_doc
from workbench.evaluation.evaluate import evaluate_records
from workbench.metrics import BootstrapSettings, LabelledScores, score_items
from workbench.records import read_records

runner = CliRunner()


def spacy_scores(nlp, records):
    examples = [Example(nlp(r.text), record_to_doc(nlp.make_doc, r)) for r in records]
    return Scorer.score_spans(examples, "ents")


def test_scores_equal_spacy_scorer(ruler_model, gold_records, scheme):
    nlp = spacy.load(ruler_model)
    ours = evaluate_records(nlp, gold_records, "ruler", None, scheme).metrics()["ner"]
    theirs = spacy_scores(nlp, gold_records)
    assert ours["micro"]["precision"] == pytest.approx(theirs["ents_p"], abs=1e-6)
    assert ours["micro"]["recall"] == pytest.approx(theirs["ents_r"], abs=1e-6)
    assert ours["micro"]["f1"] == pytest.approx(theirs["ents_f"], abs=1e-6)
    assert 0 < ours["micro"]["precision"] < 1 and 0 < ours["micro"]["recall"] < 1
    for label, s in theirs["ents_per_type"].items():
        assert ours["per_label"][label]["precision"] == pytest.approx(s["p"], abs=1e-6), label
        assert ours["per_label"][label]["recall"] == pytest.approx(s["r"], abs=1e-6), label
        assert ours["per_label"][label]["f1"] == pytest.approx(s["f"], abs=1e-6), label


def test_counts_are_strict_and_per_label():
    scores = LabelledScores()
    gold = [((0, 5), "NORP"), ((6, 22), "ROLE"), ((23, 42), "PERSON")]
    pred = [((0, 5), "NORP"), ((6, 22), "ORG"), ((23, 30), "PERSON")]
    tps, fps, fns = score_items(gold, pred, scores)
    assert tps == [((0, 5), "NORP")]
    assert sorted(fps) == [((6, 22), "ORG"), ((23, 30), "PERSON")]
    assert sorted(fns) == [((6, 22), "ROLE"), ((23, 42), "PERSON")]
    micro = scores.micro()
    assert (micro.tp, micro.fp, micro.fn) == (1, 2, 2)
    assert micro.precision == pytest.approx(1 / 3)


def test_predict_writes_valid_canonical_records(tmp_path, ruler_model):
    out = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["predict", str(ruler_model), str(ROOT / "corpus" / "raw"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    records = read_records(out)
    assert [r.doc_id for r in records] == sorted(p.stem for p in (ROOT / "corpus" / "raw").glob("*.txt"))
    assert records[0].entities and not records[0].text.startswith(" date")
    check = runner.invoke(app, ["annotations", "validate", str(out), "--no-corpus"])
    assert check.exit_code == 0, check.output


def test_evaluate_cli_writes_metrics_and_report(tmp_path, ruler_model, repo_corpus, monkeypatch):
    # The report's date comes from SOURCE_DATE_EPOCH when set, so two runs can be compared byte for byte.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = tmp_path / "report"
    args = ["evaluate", "--model", str(ruler_model), "--data", str(GOLD), "--split", "test", "--corpus", repo_corpus.output, "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["documents"] == 1 and metrics["model"] == str(ruler_model)
    micro = metrics["ner"]["micro"]
    assert set(micro) >= {"precision", "recall", "f1", "tp", "fp", "fn"}
    assert all(0 <= micro[k] <= 1 for k in ("precision", "recall", "f1"))
    assert f"NER precision {micro['precision']:.3f}" in result.output
    per_label = metrics["ner"]["per_label"]
    assert sum(s["support"] for s in per_label.values()) == micro["tp"] + micro["fn"]
    report = (out / "report.md").read_text()
    assert "## False positives" in report and "## False negatives" in report
    assert (out / "per_label.png").stat().st_size > 1000

    # One test document: no interval, and the report says so rather than print a falsely narrow one, and
    # points to what gives an honest figure: cross-validation (not more splits, whose dev document chose the checkpoint).
    assert metrics["bootstrap"]["documents"] == 1 and metrics["bootstrap"]["intervals"] is False
    assert metrics["ner"]["ci"] is None
    assert "**No confidence intervals:** these figures rest on 1 document, fewer than 10." in report
    advice = "cross-validate: `workbench crossval GOLD -o DIR`"
    assert advice in report and "--split dev" not in report
    assert f"note: no intervals: they would rest on 1 document, fewer than 10," in result.output and advice in result.output

    # Same inputs, same report: every file, the baselines, plots and HTML included.
    assert set(metrics["baselines"]) >= {"gazetteer"}
    again = tmp_path / "again"
    runner.invoke(app, args[:-1] + [str(again)])
    names = sorted(p.name for p in out.iterdir())
    assert {"metrics.json", "report.md", "report.html", "per_label.png", "confusion.png", "systems_ner.png"} <= set(names)
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_train_ner_with_the_project_config_then_evaluate(tmp_path, repo_corpus):
    from workbench.training.ner_labels import predictable_labels

    docbins = tmp_path / "docbins"
    assert runner.invoke(app, ["data", str(GOLD), "--corpus", repo_corpus.output, "-o", str(docbins)]).exit_code == 0
    model = tmp_path / "model"
    result = runner.invoke(
        app,
        ["train", "ner", "--config", str(ROOT / "configs/ner.cfg"), "--data", str(docbins), "--run-dir", str(tmp_path / "run"),
         "-o", str(model), "--training.max_steps", "30", "--training.eval_frequency", "10"],
    )
    assert result.exit_code == 0, result.output
    nlp = spacy.load(model)
    # The NER was sourced from en_core_web_md (with its own embedded tok2vec) and fitted to the scheme, the
    # span ruler before it and the guideline's conventions after it.
    assert nlp.pipe_names == ["sentencizer", "span_ruler", "ner", "entity_conventions"]
    assert predictable_labels(nlp.get_pipe("ner")) == sorted(["PERSON", "ROLE", "ORG", "GPE", "LOC", "NORP", "DATE"])
    assert nlp.meta["workbench"]["base_model"] == "en_core_web_md 3.8.0"
    assert nlp.vocab.vectors.shape == (20000, 300)
    assert f"installed {tmp_path / 'run' / 'ner' / 'model-best'}" in result.output
    out = tmp_path / "report"
    result = runner.invoke(app, ["evaluate", "--model", str(model), "--data", str(GOLD), "--split", "test", "--corpus", repo_corpus.output, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "metrics.json").read_text())["document_ids"] == ["001_05c9d2cdeba1758c"]
    # Beside the off-the-shelf baseline, the model's own figure on the baseline's labels.
    sm = json.loads((out / "metrics.json").read_text())["baselines"]["en_core_web_sm"]
    assert f"the model: NER precision {sm['model_ner']['micro']['precision']:.3f}" in result.output
    # The model records its dev document, which chose its checkpoint; the test document did not.
    dev = "004_0fbc241607889f95"
    assert nlp.meta["workbench"]["training"]["dev"]["doc_ids"] == [dev]
    assert json.loads((out / "metrics.json").read_text())["selection"] == {"checked": True, "documents": []}
    assert "chose the model's" not in result.output

    # Scoring the dev document too (what the one-document report used to advise) says so everywhere.
    both = tmp_path / "dev-and-test"
    args = ["evaluate", "--model", str(model), "--data", str(GOLD), "--split", "dev", "--split", "test", "--corpus", repo_corpus.output, "-o", str(both)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads((both / "metrics.json").read_text())["selection"] == {"checked": True, "documents": [dev]}
    warning = f"1 of the 2 evaluated documents ({dev}) chose the model's checkpoint in training (its dev documents): figures on them are optimistic"
    assert f"note: {warning}" in result.output
    assert warning in json.loads((both / "metrics.json").read_text())["notes"][-1]
    assert f"Note: {warning}" in (both / "report.md").read_text()
    assert warning in html.unescape((both / "report.html").read_text())


def test_evaluate_without_split_uses_every_gold_document(tmp_path, ruler_model):
    out = tmp_path / "r"
    result = runner.invoke(app, ["evaluate", "--model", str(ruler_model), "--data", str(GOLD), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "metrics.json").read_text())["documents"] == len(read_records(GOLD))



def test_ner_rel_pipeline_is_scored_on_every_gold_relation_in_both_modes(tmp_path, repo_corpus, gold_records):
    from workbench.corpus.store import Corpus
    from workbench.training.train import assemble_pipeline

    docbins = tmp_path / "docbins"
    assert runner.invoke(app, ["data", str(GOLD), "--corpus", repo_corpus.output, "-o", str(docbins)]).exit_code == 0
    models = {}
    for part in ("ner", "rel"):
        models[part] = tmp_path / part
        result = runner.invoke(
            app,
            ["train", part, "--config", str(ROOT / f"configs/{part}.cfg"), "--data", str(docbins), "--run-dir", str(tmp_path / f"run-{part}"),
             "-o", str(models[part]), "--training.max_steps", "20", "--training.eval_frequency", "10",
             *(["--paths.labels", str(ROOT / "configs/labels.yml"), "--target-precision", "0.5", "--min-dev-support", "1"] if part == "rel" else [])],
        )
        assert result.exit_code == 0, result.output
    # Thresholds were tuned on dev, stored in the model and reported beside it.
    tuning = json.loads((models["rel"] / "relation_thresholds.json").read_text())
    assert tuning["objective"] == "precision >= 0.5" and "relation thresholds" in result.output
    stored = spacy.load(models["rel"]).get_pipe("relation_extractor").thresholds
    assert stored == pytest.approx({label: row["threshold"] for label, row in tuning["per_type"].items()})
    pipeline = assemble_pipeline(models["ner"], models["rel"], tmp_path / "pipeline")
    # The relation extractor comes last, after every component that sets the entities it reads.
    assert spacy.load(pipeline).pipe_names == ["sentencizer", "span_ruler", "ner", "entity_conventions", "relation_extractor"]

    out = tmp_path / "report"
    result = runner.invoke(app, ["evaluate", "--model", str(pipeline), "--data", str(GOLD), "--split", "test", "--corpus", repo_corpus.output, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "REL precision" in result.output
    rel = json.loads((out / "metrics.json").read_text())["rel"]
    splits = Corpus.open(repo_corpus.output)
    n_gold = sum(len(r.relations) for r in gold_records if splits.split_of(r.doc_id) == "test")
    # Every gold relation is a TP or an FN, whatever the model found or could reach.
    for mode in (rel, rel["gold_entities"]):
        assert mode["micro"]["tp"] + mode["micro"]["fn"] == n_gold
        assert set(mode["per_label"]) == {"HAS_ROLE", "AFFILIATION", "MET", "SPOKE_WITH"}
    assert "### Relation model alone (relations on gold entities)" in (out / "report.md").read_text()


def test_relation_items_ignore_direction_only_for_symmetric_types():
    from workbench.metrics import relation_items
    from workbench.labels import EntityLabel, LabelScheme, RelationType
    from workbench.records import AnnotatedDoc, Entity, Relation

    person = ("PERSON",)
    scheme = LabelScheme("t", {"PERSON": EntityLabel("PERSON")}, {
        "MET": RelationType("MET", person, person, symmetric=True), "KNOWS": RelationType("KNOWS", person, person)})
    ents = [Entity(1, "PERSON", 0, 5), Entity(2, "PERSON", 10, 15)]
    forward = AnnotatedDoc("d", "x" * 20, ents, [Relation(1, 1, 2, "MET"), Relation(2, 1, 2, "KNOWS")])
    backward = AnnotatedDoc("d", "x" * 20, ents, [Relation(1, 2, 1, "MET"), Relation(2, 2, 1, "KNOWS")])
    fwd, bwd = relation_items(forward, scheme), relation_items(backward, scheme)
    assert fwd[0] == bwd[0]
    assert fwd[1] != bwd[1]


def test_intervals_over_ten_documents_bracket_the_scores(tmp_path, ruler_model):
    from conftest import ten_gold_documents

    out = tmp_path / "r"
    args = ["evaluate", "--model", str(ruler_model), "--data", str(ten_gold_documents(tmp_path)), "--corpus", str(tmp_path / "none"),
            "-o", str(out), "--bootstrap", "200", "--seed", "3", "--no-baselines", "--no-html"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["documents"] == 10
    assert metrics["bootstrap"] == {**metrics["bootstrap"], "samples": 200, "seed": 3, "documents": 10, "min_documents": 10, "intervals": True}
    for metric in ("precision", "recall", "f1"):
        interval = metrics["ner"]["ci"]["micro"][metric]
        assert interval["lo"] <= metrics["ner"]["micro"][metric] <= interval["hi"], metric
    # Intervals where a label has something to score, and the same keys as before beside them.
    assert set(metrics["ner"]) >= {"micro", "macro", "per_label", "ci", "partial", "errors", "confusion"}
    assert set(metrics["ner"]["ci"]["per_label"]) == set(metrics["ner"]["per_label"])
    assert "baselines" not in metrics and not (out / "report.html").exists()
    assert "95% intervals" in (out / "report.md").read_text() and "note: no intervals" not in result.output


def test_two_documents_give_no_interval(tmp_path, ruler_model, repo_corpus):
    # The case: dev + test, 2 documents, printed 'precision 95% interval 0.905-0.929'.
    out = tmp_path / "r"
    args = ["evaluate", "--model", str(ruler_model), "--data", str(GOLD), "--split", "dev", "--split", "test",
            "--corpus", repo_corpus.output, "-o", str(out), "--no-html"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["documents"] == 2 and metrics["bootstrap"]["intervals"] is False
    assert metrics["ner"]["ci"] is None and all(b["ner"]["ci"] is None for b in metrics["baselines"].values())
    assert "precision 95% interval" not in result.output and result.output.count(", no interval)") == 4  # model, 2 baselines, model on sm's labels
    assert "**No confidence intervals:** these figures rest on 2 documents, fewer than 10." in (out / "report.md").read_text()


def test_min_precision_gate_fails_after_writing_the_report(tmp_path, ruler_model):
    out = tmp_path / "r"
    base = ["evaluate", "--model", str(ruler_model), "--data", str(GOLD), "-o", str(out), "--no-baselines", "--no-html", "--bootstrap", "0"]
    passed = runner.invoke(app, base + ["--min-precision", "0.01"])
    assert passed.exit_code == 0, passed.output
    precision = json.loads((out / "metrics.json").read_text())["ner"]["micro"]["precision"]
    (out / "metrics.json").unlink()
    failed = runner.invoke(app, base + ["--min-precision", "0.99"])
    assert failed.exit_code == 1
    assert f"error: NER precision {precision:.3f} is below --min-precision 0.99" in failed.output
    assert (out / "metrics.json").exists()  # the report is there to read why
    no_rel = runner.invoke(app, base + ["--min-rel-precision", "0.1"])
    assert no_rel.exit_code == 1 and "needs a pipeline with a relation model" in no_rel.output


def test_relation_errors_are_put_down_to_the_entities_or_the_relation_model(scheme):
    from workbench.evaluation.evaluate import classify_relation_errors
    from workbench.records import AnnotatedDoc, Entity, Relation

    text = "Fidan met Rubio and Barrot in Paris as minister ."
    person = [Entity(1, "PERSON", 0, 5), Entity(2, "PERSON", 10, 15), Entity(3, "PERSON", 20, 26)]
    gold = AnnotatedDoc("d", text, person, [Relation(1, 1, 2, "MET"), Relation(2, 1, 3, "MET")])
    # Rubio found, but the relation missed; Barrot predicted as a GPE, so its relation could not be found.
    predicted = AnnotatedDoc("d", text, person[:2] + [Entity(3, "GPE", 20, 26), Entity(4, "PERSON", 30, 35)],
                             [Relation(1, 1, 4, "MET")])
    errors = {(e.kind, e.tail, e.cause) for e in classify_relation_errors(gold, predicted, scheme)}
    assert errors == {("FN", "Rubio", "relation_model"), ("FN", "Barrot", "entities"), ("FP", "Paris", "entities")}


# --- undefined figures, the training-documents note, provenance ---------------------------------


def test_undefined_precision_is_none_and_left_out_of_the_macro_average():
    scores = LabelledScores()
    # A: 2 gold spans, nothing predicted: precision undefined, recall 0, F1 0.
    score_items([((0, 1), "A"), ((2, 3), "A")], [], scores)
    # B: 1 gold span found, 1 wrong prediction: precision 1/2, recall 1, F1 2/3.
    score_items([((4, 5), "B")], [((4, 5), "B"), ((6, 7), "B")], scores)
    data = scores.to_dict(["A", "B", "C"])
    assert data["per_label"]["A"]["precision"] is None and data["per_label"]["A"]["recall"] == 0.0
    # C: neither gold nor prediction: every figure undefined.
    assert {k: data["per_label"]["C"][k] for k in ("precision", "recall", "f1")} == {"precision": None, "recall": None, "f1": None}
    # Macro over the labels with gold (A, B): precision is B's alone (not (0 + 0.5) / 2);
    # recall (0 + 1) / 2; F1 (0 + 2/3) / 2.
    assert data["macro"] == {"precision": 0.5, "recall": 0.5, "f1": round(1 / 3, 6)}


def test_a_label_never_predicted_shows_a_dash_not_zero(tmp_path, gold_records, scheme):
    from conftest import ruler_nlp

    from workbench.evaluation.report import write_report

    nlp = ruler_nlp(gold_records)
    ruler = nlp.get_pipe("entity_ruler")
    kept = [p for p in ruler.patterns if p["label"] != "PERSON"]
    ruler.clear()
    ruler.add_patterns(kept)  # the pipeline never predicts PERSON
    # Intervals over the 5 documents (below evaluate's minimum), to show a degenerate one beside the dash.
    evaluation = evaluate_records(nlp, gold_records, "no-person", None, scheme, BootstrapSettings(min_documents=2))
    write_report(evaluation, tmp_path, html=False)
    person = json.loads((tmp_path / "metrics.json").read_text())["ner"]["per_label"]["PERSON"]
    assert person["precision"] is None and person["tp"] == person["fp"] == 0 and person["recall"] == 0.0
    row = next(line for line in (tmp_path / "report.md").read_text().splitlines() if line.startswith("| PERSON |"))
    assert row == f"| PERSON | – | 0.0 (0.0–0.0) | 0.0 (0.0–0.0) | {person['support']} | 0 | 0 | {person['support']} |"


def test_the_training_documents_note_does_not_need_baselines(tmp_path, ruler_model, repo_corpus):
    from workbench.corpus.store import Corpus

    train = sorted(Corpus.open(repo_corpus.output).in_split("train"))
    args = ["evaluate", "--model", str(ruler_model), "--data", str(GOLD), "--split", "train", "--corpus", repo_corpus.output,
            "-o", str(tmp_path / "r"), "--no-baselines", "--no-html", "--bootstrap", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    n = len(train)
    assert f"note: {n} of the {n} evaluated documents are training documents ({', '.join(train)})" in result.output
    assert "are training documents" in (tmp_path / "r" / "report.md").read_text()


def test_a_split_typo_lists_the_splits(tmp_path, ruler_model):
    result = runner.invoke(app, ["evaluate", "--model", str(ruler_model), "--data", str(GOLD), "--split", "tset", "-o", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert result.output == "error: --split 'tset' is not a split; the splits are train, dev, test\n"
    assert not (tmp_path / "r").exists()


def test_provenance_in_metrics_and_both_reports(tmp_path, gold_records, repo_corpus, monkeypatch):
    import hashlib

    from conftest import ruler_nlp

    import workbench

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    gold_sha = hashlib.sha256(GOLD.read_bytes()).hexdigest()
    # What `workbench train` records in a trained pipeline's meta.
    manifest = {"gold": str(GOLD), "gold_sha256": gold_sha, "documents": {"train": 3, "dev": 1, "test": 1},
                "docbins": {"train": {"path": "training/corpus/train.spacy", "sha256": "c" * 64}}}
    nlp = ruler_nlp(gold_records)
    nlp.meta["workbench"] = {"base_model": "en_core_web_md 3.8.0", "training": {"manifest": manifest},
                             "config_sha256": {"ner": "d" * 64}}
    nlp.to_disk(tmp_path / "model")
    out = tmp_path / "r"
    result = runner.invoke(app, ["evaluate", "--model", str(tmp_path / "model"), "--data", str(GOLD), "--split", "test",
                                 "--corpus", repo_corpus.output, "-o", str(out), "--no-baselines", "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    provenance = json.loads((out / "metrics.json").read_text())["provenance"]
    assert provenance == {
        "model": {"path": str(tmp_path / "model"), "name": "en_pipeline", "version": "0.0.0", "base_model": "en_core_web_md 3.8.0"},
        "training": {"documents": 3, "docbin": "training/corpus/train.spacy", "sha256": "c" * 64, "gold": str(GOLD), "gold_sha256": gold_sha},
        "config_sha256": {"ner": "d" * 64},
        "gold": {"paths": [str(GOLD)], "sha256": gold_sha},
        "versions": {"workbench": workbench.__version__, "spacy": spacy.__version__},
        "date": "2023-11-14T22:13:20Z",
    }
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        for needle in ("en_core_web_md 3.8.0", "c" * 12, "ner `" + "d" * 12 + "`" if name == "report.md" else "d" * 12, gold_sha[:12],
                       f"spaCy {spacy.__version__}", "2023-11-14T22:13:20Z", "training/corpus/train.spacy"):
            assert needle in text, (name, needle)

    # A pipeline that records none of it: "unknown", never a guess.
    nlp.meta.pop("workbench")
    nlp.to_disk(tmp_path / "bare")
    runner.invoke(app, ["evaluate", "--model", str(tmp_path / "bare"), "--data", str(GOLD), "-o", str(tmp_path / "b"), "--no-baselines", "--bootstrap", "0", "--corpus", str(tmp_path / "none")])
    bare = json.loads((tmp_path / "b" / "metrics.json").read_text())["provenance"]
    assert bare["model"]["base_model"] == "unknown" and bare["config_sha256"] == "unknown"
    assert bare["training"]["documents"] == "unknown" and bare["gold"]["sha256"] == gold_sha
    assert "| base model | unknown |" in (tmp_path / "b" / "report.md").read_text()


def test_a_model_from_before_dev_ids_were_recorded_is_checked_against_its_dev_docbin(repo_docbins):
    from workbench.evaluation.provenance import selection_doc_ids
    from workbench.fileio import sha256_of_files

    dev = repo_docbins / "dev.spacy"
    meta = {"workbench": {"training": {"dev": {"path": str(dev), "sha256": sha256_of_files([dev])}}}}
    assert selection_doc_ids(meta) == ["004_0fbc241607889f95"]
    # The DocBin at that path is no longer the one the model was selected on: unknown, not guessed.
    meta["workbench"]["training"]["dev"]["sha256"] = "0" * 64
    assert selection_doc_ids(meta) is None
    assert selection_doc_ids({"lang": "en", "name": "ruler"}) is None


def test_one_pass_with_relation_scores_gives_what_the_pipeline_gives(ruler_rel_model, gold_records):
    from spacy.language import Language

    from workbench.docs import get_relations
    from workbench.evaluation.evaluate import pipe_with_relation_scores

    @Language.component("test_after_relations")
    def after_relations(doc):
        doc.user_data["relations_seen"] = len(get_relations(doc))
        return doc

    nlp = spacy.load(ruler_rel_model)
    component = nlp.get_pipe("relation_extractor")
    for label in component.labels:
        component.set_threshold(label, 0.05)  # the untrained model keeps relations to compare
    nlp.add_pipe("test_after_relations")
    nlp.batch_size = 2  # several batches of the relation step
    texts = [r.text for r in gold_records]
    expected = list(nlp.pipe(texts))
    docs, scores = pipe_with_relation_scores(nlp, texts)
    assert sum(len(get_relations(doc)) for doc in expected) > 0
    for doc, want, (candidates, probs) in zip(docs, expected, scores):
        assert [(e.start, e.end, e.label_) for e in doc.ents] == [(e.start, e.end, e.label_) for e in want.ents]
        assert get_relations(doc) == get_relations(want)
        # The pipe after the relation step ran, on the relations it set; the scores are those it set them from.
        assert doc.user_data["relations_seen"] == len(get_relations(doc))
        assert probs.shape == (len(candidates), len(component.labels))
        kept = {(tuple(r["head"]), tuple(r["tail"]), r["label"]) for r in get_relations(doc)}
        assert kept == {(c.head, c.tail, label) for row, c in enumerate(candidates) for col, label in enumerate(component.labels)
                        if probs[row, col] >= 0.05 and probs[row, col] > 0}


def test_end_to_end_cells_cut_at_the_models_thresholds_give_evaluates_end_to_end_counts(ruler_rel_model, gold_records, scheme):
    nlp = spacy.load(ruler_rel_model)
    component = nlp.get_pipe("relation_extractor")
    for label, threshold in zip(component.labels, (0.05, 0.2, 0.5, 0.8)):
        component.set_threshold(label, threshold)
    evaluation = evaluate_records(nlp, gold_records, "ruler", None, scheme, BootstrapSettings(0))
    cells, n_gold = evaluation.end_to_end_cells
    total_tp = total_fp = 0
    for label in component.labels:
        kept = [is_gold for score, is_gold in cells[label] if score >= component.thresholds[label]]
        counts = evaluation.rel.counts(label)
        # Re-cut where the model ran, the cells are exactly the relations evaluate scored end to end, right and wrong.
        assert (sum(kept), len(kept) - sum(kept), n_gold[label]) == (counts.tp, counts.fp, counts.tp + counts.fn), label
        total_tp, total_fp = total_tp + counts.tp, total_fp + counts.fp
    # The ruler is right on some spans and wrong on others, so both kinds are there to compare.
    assert total_tp > 0 and total_fp > 0
