"""Span-ruler patterns from gold: what each gold span gives, how often each was right, the label config's say, the CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import spacy
from conftest import GOLD, ROOT
from doc_helpers import doc_with_entities
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.labels import load_labels
from workbench.training.patterns import derive_patterns, span_patterns

runner = CliRunner()

LABELS = """\
name: t
entities:
  PERSON: {}
  ROLE:
    patterns:
      from_gold: true
      min_precision: 0.6
      add: ["Envoy", [{"LOWER": "spokesperson"}]]
  GPE: {}
"""


def labels(tmp_path: Path, text: str = LABELS) -> Path:
    path = tmp_path / "labels.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_gold_span_gives_its_text_its_lower_case_words_and_a_title_complement():
    nlp = spacy.blank("en")
    doc = doc_with_entities(nlp, "He met the Ambassador to Türkiye .", [("Ambassador to Türkiye", "ROLE", 0)])
    assert span_patterns(doc.ents[0]) == [
        "Ambassador to Türkiye",
        [{"LOWER": "ambassador"}, {"LOWER": "to"}, {"LOWER": "türkiye"}],
        # After the first lower-case word, a capitalised word stands for any title-case word.
        [{"LOWER": "ambassador"}, {"LOWER": "to"}, {"IS_TITLE": True}],
    ]
    # No lower-case word, nothing to generalise: the text and its lower-case form only.
    single = doc_with_entities(nlp, "Foreign Minister Fidan", [("Foreign Minister", "ROLE", 0)]).ents[0]
    assert span_patterns(single) == ["Foreign Minister", [{"LOWER": "foreign"}, {"LOWER": "minister"}]]


def test_patterns_are_scored_on_their_gold_and_kept_by_the_labels_min_precision(tmp_path):
    nlp = spacy.blank("en")
    docs = [
        # "Minister" is a ROLE twice; "minister" (lower case, line 2) is not annotated.
        doc_with_entities(nlp, "Minister Ann met Minister Bob .", [("Minister", "ROLE", 0), ("Minister", "ROLE", 1), ("Ann", "PERSON", 0), ("Bob", "PERSON", 0)]),
        doc_with_entities(nlp, "The minister left Paris .", [("Paris", "GPE", 0)]),
    ]
    kept = {json.dumps(p.pattern): p for p in derive_patterns(docs, load_labels(labels(tmp_path)))}
    # Phrase "Minister" (exact text): 2 matches, both gold ROLEs: 2 of 2, kept.
    assert (kept['"Minister"'].matched, kept['"Minister"'].right, kept['"Minister"'].source) == (2, 2, "gold")
    # Token pattern LOWER minister: 3 matches, 2 right: 0.667 >= 0.6, kept; with min_precision 0.7 it goes.
    lower = json.dumps([{"LOWER": "minister"}])
    assert (kept[lower].matched, kept[lower].right) == (3, 2)
    strict = derive_patterns(docs, load_labels(labels(tmp_path, LABELS.replace("0.6", "0.7"))))
    assert lower not in {json.dumps(p.pattern) for p in strict}
    # The label config's own patterns are kept whatever they score: "Envoy" matches nothing here.
    assert (kept['"Envoy"'].matched, kept['"Envoy"'].source) == (0, "labels")
    assert kept[json.dumps([{"LOWER": "spokesperson"}])].source == "labels"
    # Only ROLE asks for patterns: no PERSON or GPE pattern, though both are in the gold.
    assert {p.label for p in kept.values()} == {"ROLE"}
    assert kept['"Minister"'].to_dict() == {
        "label": "ROLE", "pattern": "Minister", "id": "gold:ROLE", "source": "gold", "right_in_gold": "2 of 2 matches",
    }


def test_a_bad_pattern_setting_names_file_key_and_line(tmp_path):
    path = labels(tmp_path, LABELS.replace("min_precision: 0.6", "min_precision: 2"))
    with pytest.raises(WorkbenchError) as caught:
        load_labels(path)
    assert str(caught.value) == f"{path}:7: entities.ROLE.patterns.min_precision: ensure this value is less than or equal to 1"


def test_the_cli_writes_the_pattern_file_of_the_bundled_gold(tmp_path):
    out = tmp_path / "patterns.jsonl"
    result = runner.invoke(app, ["patterns", str(GOLD), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    scheme = load_labels(ROOT / "configs" / "labels.yml")
    asked = {name for name, entity in scheme.entities.items() if entity.patterns and entity.patterns.from_gold}
    assert {row["label"] for row in rows} == asked
    # "Secretary of State" is a ROLE both times the bundled gold has it (001 and 002).
    row = next(r for r in rows if r["pattern"] == "Secretary of State")
    assert row["right_in_gold"] == "2 of 2 matches"
    assert f"patterns: {out}" in result.output
