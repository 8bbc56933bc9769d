"""Annotation statistics: counts per split, span lengths and relation distances by hand; the CLI on the real gold."""

from __future__ import annotations

import json

import pytest
from annotator_fixtures import ent, rel, write_rows
from conftest import GOLD, ROOT
from typer.testing import CliRunner

from workbench.annotations.stats import collect_stats
from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.records import read_records

runner = CliRunner()
LABELS = str(ROOT / "configs" / "labels.yml")
# Tokens: Fidan(0) met(1) Barrack(2) in(3) Ankara(4) .(5) | Later(6) Fidan(7) called(8) Sheikh(9) Abdullah(10) bin(11) Zayed(12) .(13)
T1 = "Fidan met Barrack in Ankara. Later Fidan called Sheikh Abdullah bin Zayed."
T2 = "Albares visited Rome."


def rows() -> list[dict]:
    return [
        {
            "doc_id": "a",
            "split": "dev",
            "text": T1,
            "entities": [
                ent(1, T1, "Fidan", "PERSON"),
                ent(2, T1, "Barrack", "PERSON"),
                ent(3, T1, "Ankara", "GPE"),
                ent(4, T1, "Fidan", "PERSON", after=T1.index("Later")),
                ent(5, T1, "Sheikh Abdullah bin Zayed", "PERSON"),
            ],
            # MET: "met" lies between (1 token); SPOKE_WITH from the first Fidan to the Sheikh: tokens 1-8 between (8), across the full stop.
            "relations": [rel(1, 1, 2, "MET"), rel(2, 1, 5, "SPOKE_WITH"), rel(3, 4, 5, "SPOKE_WITH")],
        },
        {"doc_id": "b", "text": T2, "entities": [ent(1, T2, "Albares", "PERSON"), ent(2, T2, "Rome", "GPE")], "relations": []},
        {"doc_id": "c", "text": "No names here.", "entities": [], "relations": []},
    ]


@pytest.fixture
def data(tmp_path, scheme):
    # The lock file puts a in train too, but a's record says dev.
    stats = collect_stats([write_rows(tmp_path / "gold.jsonl", rows())], {"a": "train", "b": "train", "c": "test"})
    return stats.to_dict(scheme.entity_labels, scheme.relation_types)


def test_split_from_record_then_lock_file(data):
    # a: its own "split" key wins over the lock file; b and c: the lock file.
    assert data["splits"] == ["train", "dev", "test"]
    assert data["documents"] == {"train": 1, "dev": 1, "test": 1, "total": 3}
    assert data["without_annotations"] == {"train": [], "dev": [], "test": ["c"]}


def test_counts_per_label_and_type_per_split(data):
    assert data["entities"]["PERSON"] == {"train": 1, "dev": 4, "test": 0, "total": 5}
    assert data["entities"]["GPE"] == {"train": 1, "dev": 1, "test": 0, "total": 2}
    assert data["entities"]["LOC"]["total"] == 0
    assert data["relations"]["SPOKE_WITH"] == {"train": 0, "dev": 2, "test": 0, "total": 2}


def test_span_lengths_and_relation_distances(data):
    # Four one-token persons, and the four-token "Sheikh Abdullah bin Zayed".
    assert data["span_length_tokens"]["PERSON"] == {"1": 4, "4": 1}
    assert data["relation_distance_tokens"]["MET"] == {"1": 1}
    # Fidan(0) .. Sheikh(9): tokens 1-8 between; Fidan(7) .. Sheikh(9): "called".
    assert data["relation_distance_tokens"]["SPOKE_WITH"] == {"1": 1, "8": 1}
    assert data["cross_sentence"] == {"AFFILIATION": 0, "HAS_ROLE": 0, "MET": 0, "SPOKE_WITH": 1}


def test_unsplit_when_nowhere_to_be_found(tmp_path, scheme):
    stats = collect_stats([write_rows(tmp_path / "gold.jsonl", rows()[1:])], {})
    assert stats.to_dict()["documents"] == {"unsplit": 2, "total": 2}


def test_relation_to_a_missing_entity_names_file_line_and_document(tmp_path):
    bad = rows()
    bad[0]["relations"].append(rel(9, 1, 42, "MET"))
    path = write_rows(tmp_path / "gold.jsonl", bad)
    with pytest.raises(WorkbenchError, match=r"gold.jsonl:1 \[a\]: relation 9 points at a missing entity"):
        collect_stats([path], {})


def test_cli_on_the_repository_gold(tmp_path):
    plot, out = tmp_path / "stats.png", tmp_path / "stats.json"
    splits = str(ROOT / "corpus" / "splits.json")
    result = runner.invoke(app, ["annotations", "stats", str(GOLD), "--splits", splits, "--labels", LABELS, "--plot", str(plot), "--json", str(out)])
    assert result.exit_code == 0, result.output
    records = read_records(GOLD)
    data = json.loads(out.read_text())
    assert data["documents"]["total"] == len(records)
    assert sum(c["total"] for c in data["entities"].values()) == sum(len(r.entities) for r in records)
    assert sum(c["total"] for c in data["relations"].values()) == sum(len(r.relations) for r in records)
    assert sum(sum(h.values()) for h in data["relation_distance_tokens"].values()) == sum(len(r.relations) for r in records)
    persons = sum(1 for r in records for e in r.entities if e.label == "PERSON")
    assert f"| PERSON | {data['entities']['PERSON']['train']} |" in result.output and data["entities"]["PERSON"]["total"] == persons
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
