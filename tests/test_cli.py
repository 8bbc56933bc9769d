"""The command line as a whole: `workbench --help`."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()


def test_top_level_help_lists_commands_in_workflow_order():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    names = re.findall(r"^│ ([a-z][a-z-]+) ", result.output, flags=re.MULTILINE)
    assert names == ["corpus", "doccano", "annotations", "data", "patterns", "train", "train-curve", "evaluate", "crossval", "compare", "predict", "predict-bench", "import", "benchmark"]
