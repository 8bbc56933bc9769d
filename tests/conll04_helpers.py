"""Tiny CoNLL04-format data and a benchmark YAML over it, for the benchmark commands' tests."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import ROOT

PEOPLE = ["Anna Berg", "Carl Dahl", "Eva Frost", "Gus Hale", "Ida Jones", "Karl Lund", "Mia Nord", "Ola Pers", "Rut Sand", "Tor Ulv"]
ORGS = ["Acme Corp", "Bolt Inc", "Crane Ltd", "Delta Group"]
PLACES = ["Oslo", "Paris", "Lima", "Rome", "Cairo"]


def sentence(number: int) -> dict:
    """'<person> works for <org> in <place> .' with Work_For and OrgBased_In, all names varied by number."""
    person, org, place = PEOPLE[number % 10].split(), ORGS[number % 4].split(), [PLACES[number % 5]]
    tokens = [*person, "works", "for", *org, "in", *place, "."]
    org_start = len(person) + 2
    return {
        "tokens": tokens,
        "entities": [
            {"type": "Peop", "start": 0, "end": len(person)},
            {"type": "Org", "start": org_start, "end": org_start + len(org)},
            {"type": "Loc", "start": org_start + len(org) + 1, "end": org_start + len(org) + 2},
        ],
        "relations": [{"type": "Work_For", "head": 0, "tail": 1}, {"type": "OrgBased_In", "head": 1, "tail": 2}],
        "orig_id": 1000 + number,
    }


def write_benchmark(folder: Path, **changes) -> Path:
    """Tiny train/dev/test splits in folder/conll04 and a from-scratch benchmark YAML over them; `changes` replace its top-level keys."""
    data = folder / "conll04"
    data.mkdir(parents=True)
    splits = {"train": range(0, 16), "dev": range(16, 20), "test": range(20, 22)}
    for split, numbers in splits.items():
        (data / f"{split}.json").write_text(json.dumps([sentence(n) for n in numbers]), encoding="utf-8")
    config = {
        "data": str(data),
        "labels": str(ROOT / "configs/benchmarks/conll04-labels.yml"),
        "output": str(folder / "unused"),
        "base_model": "none",
        "ner": {"config": str(ROOT / "configs/ner-scratch.cfg")},
        "rel": {"config": str(ROOT / "configs/rel-scratch.cfg"), "overrides": {"components.relation_extractor.max_distance": 120}},
        **changes,
    }
    path = folder / "benchmark.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
