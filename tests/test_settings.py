"""Settings files go through schemas: typos, repeated keys or shortcuts, unknown labels and wrong types are
one-line errors naming the file, the key and the line; the repository's own settings all load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from workbench.benchmarks.config import load_benchmark_config
from workbench.cli import app
from workbench.corpus.build import load_corpus_config
from workbench.doccano.config import load_settings
from workbench.errors import WorkbenchError
from workbench.labels import load_labels

runner = CliRunner()

LABELS = """\
name: t
entities:
  PERSON:
    shortcut: p
  ROLE:
    shortcut: r
relations:
  HAS_ROLE:
    head: [PERSON]
    tail: [ROLE]
    shortcut: h
  MET:
    head: [PERSON]
    tail: [PERSON]
    symmetric: true
    shortcut: m
"""


def write(tmp_path: Path, text: str, name: str = "labels.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(load, path: Path) -> str:
    with pytest.raises(WorkbenchError) as caught:
        load(path)
    return str(caught.value)


def test_the_base_labels_load_and_symmetry_is_read(tmp_path):
    scheme = load_labels(write(tmp_path, LABELS))
    assert scheme.symmetric_types == {"MET"}
    assert scheme.entities["PERSON"].base_label is None


@pytest.mark.parametrize(
    "old, new, expected",
    [
        # The case: a misspelt key that silently made MET directional. Line 15 is MET's `symmetric:`.
        ("    symmetric: true", "    symetric: true", ":15: relations.MET.symetric: unknown key (did you mean 'symmetric'?)"),
        # A string where a boolean belongs is not read as true.
        ("    symmetric: true", '    symmetric: "yes"', ":15: relations.MET.symmetric: value is not a valid boolean"),
        # MET's shortcut (line 16) repeats PERSON's.
        ("    shortcut: m", "    shortcut: p", ":16: relations.MET.shortcut: shortcut 'p' is already entities.PERSON's"),
        # HAS_ROLE's tail (line 10) names a label the scheme lacks.
        ("    tail: [ROLE]", "    tail: [ROLE, TITLE]", ":10: relations.HAS_ROLE.tail: unknown entity label 'TITLE' (known: PERSON, ROLE)"),
        # A relation without a head: the key is missing, so the relation's own line (12) is named.
        ("    head: [PERSON]\n    tail: [PERSON]", "    tail: [PERSON]", ":12: relations.MET.head: required key is missing"),
        # YAML keeps the last of two equal keys; here the second one (line 15) is an error.
        ("relations:\n", "relations:\n  MET:\n    head: [PERSON]\n    tail: [PERSON]\n", ":15: duplicate key 'relations.MET' (first at line 8)"),
    ],
)
def test_labels_mistakes_name_file_key_and_line(tmp_path, old, new, expected):
    assert old in LABELS
    path = write(tmp_path, LABELS.replace(old, new, 1))
    assert error_of(load_labels, path) == f"{path}{expected}"


def test_a_duplicate_top_level_key_is_an_error(tmp_path):
    path = write(tmp_path, LABELS + "name: again\n")
    assert error_of(load_labels, path) == f"{path}:17: duplicate key 'name' (first at line 1)"


def test_every_problem_is_on_the_one_line(tmp_path):
    text = LABELS.replace("  PERSON:\n", "  PERSON:\n    colour: red\n").replace("    symmetric: true", "    symetric: true")
    message = error_of(load_labels, write(tmp_path, text))
    assert "\n" not in message
    # Errors come in schema order: entities before relations; the typo's line moved down by one.
    assert message.endswith(":4: entities.PERSON.colour: unknown key (did you mean 'color'?); line 16: relations.MET.symetric: unknown key (did you mean 'symmetric'?)")


def test_the_cli_gives_one_line_and_no_traceback(tmp_path):
    path = write(tmp_path, LABELS.replace("    symmetric: true", "    symetric: true"))
    gold = ROOT / "annotations" / "gold" / "diplomatic.jsonl"
    result = runner.invoke(app, ["annotations", "validate", str(gold), "--labels", str(path), "--no-corpus"])
    assert result.exit_code == 1
    assert result.output == f"error: {path}:15: relations.MET.symetric: unknown key (did you mean 'symmetric'?)\n"


def test_corpus_settings_are_checked(tmp_path):
    path = write(tmp_path, "sources: [corpus/raw]\nseed: '13'\nnear_duplicate_treshold: 0.8\n", "corpus.yml")
    assert error_of(load_corpus_config, path) == (
        f"{path}:2: seed: value is not a valid integer; "
        "line 3: near_duplicate_treshold: unknown key (did you mean 'near_duplicate_threshold'?)"
    )


def test_doccano_settings_are_checked_below_server(tmp_path):
    path = write(tmp_path, "project: p\nserver:\n  dir: .doccano\n  prot: 8000\n", "doccano.yml")
    assert error_of(load_settings, path) == f"{path}:4: server.prot: unknown key (did you mean 'port'?)"
    assert load_settings(tmp_path / "absent.yml").server.port == 8000  # no file: the defaults


def test_benchmark_settings_are_checked(tmp_path):
    text = (ROOT / "configs" / "benchmarks" / "conll04.yml").read_text()
    assert "ner:\n  overrides:\n" in text and "base_model: en_core_web_md\n" in text
    typos = text.replace("ner:\n  overrides:\n", "ner:\n  overides:\n").replace("base_model: en_core_web_md\n", "base_modle: en_core_web_md\n")
    path = write(tmp_path, typos, "bench.yml")
    base, ner = (text.splitlines().index(line) + 1 for line in ("base_model: en_core_web_md", "  overrides:"))
    assert error_of(lambda p: load_benchmark_config(p, "x"), path) == (
        f"{path}:{ner}: ner.overides: unknown key (did you mean 'overrides'?); line {base}: base_modle: unknown key (did you mean 'base_model'?)"
    )


def test_the_repository_settings_load():
    assert load_labels(ROOT / "configs" / "labels.yml").symmetric_types == {"MET", "SPOKE_WITH"}
    conll = load_labels(ROOT / "configs" / "benchmarks" / "conll04-labels.yml")
    assert {n: e.base_label for n, e in conll.entities.items()} == {"Peop": "PERSON", "Org": "ORG", "Loc": "GPE", "Other": None}
    assert load_corpus_config(ROOT / "configs" / "corpus.yml").seed == 13
    assert load_settings(ROOT / "configs" / "doccano.yml").server.workers == 2
    assert load_benchmark_config(ROOT / "configs" / "benchmarks" / "conll04.yml", "conll04").spec.min_dev_support == 20


def test_doccano_server_values_are_checked(tmp_path):
    path = write(tmp_path, "server:\n  port: 0\n  database: postgress\n", "doccano.yml")
    message = error_of(load_settings, path)
    assert message.startswith(f"{path}:2: server.port:") and "line 3: server.database:" in message


def test_a_database_url_never_overrides_an_explicit_database(monkeypatch):
    from typer.testing import CliRunner

    from workbench.cli import app

    monkeypatch.setenv("DOCCANO_DATABASE_URL", "postgresql://u:p@127.0.0.1:5432/d")
    result = CliRunner().invoke(app, ["doccano", "up", "--database", "sqlite", "--config", str(ROOT / "configs" / "doccano.yml")])
    assert result.exit_code == 1 and "--database sqlite and a database URL" in result.output
    assert "u:p@" not in result.output


def test_a_control_character_is_invalid_yaml_named_by_file(tmp_path):
    path = tmp_path / "labels.yml"
    path.write_text("name: x\x07\n", encoding="utf-8")
    with pytest.raises(WorkbenchError, match="not valid YAML") as refused:
        load_labels(path)
    assert refused.value.path == path
