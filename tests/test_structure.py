"""The house's rules that code review alone would let slip: what the command line loads at start-up, one P/R/F1."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

from workbench.metrics import Counts, or_zero
from workbench.relations.thresholds import choice_at

# The libraries that make start-up slow; the command modules import them only inside a command.
HEAVY = ("spacy", "thinc", "datasets", "sklearn", "matplotlib", "distributed", "doccano_client")


def test_the_command_line_starts_without_the_heavy_libraries():
    # A fresh interpreter, as `workbench --help` is: importing every command module loads none of them.
    code = f"import json, sys, workbench.cli; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_a_threshold_cut_is_scored_by_the_one_counts():
    # 55 of 72 kept candidates are gold, of 76 gold relations: P = 55/72, R = 55/76, F1 = 2*55 / (2*55 + 17 + 21) = 110/148.
    cut = choice_at(0.4, 55, 17, 76)
    assert (cut.precision, cut.recall, cut.f1) == (55 / 72, 55 / 76, 110 / 148)
    counts = Counts(55, 17, 76 - 55)
    assert (cut.precision, cut.recall, cut.f1) == (counts.precision, counts.recall, counts.f1)
    # Nothing kept and nothing to find: every figure is undefined for Counts, and 0 for ranking cuts.
    empty = choice_at(0.9, 0, 0, 0)
    assert Counts().precision is None and Counts().recall is None and Counts().f1 is None
    assert (empty.precision, empty.recall, empty.f1) == (or_zero(None), or_zero(None), or_zero(None)) == (0.0, 0.0, 0.0)
