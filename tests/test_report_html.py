"""report.html: self-contained, and it renders in a real headless browser (Debian's chromium).

The browser check fails, not skips, without chromium: `make test` installs it (`make browser`),
so CI always runs it. Its screenshot is kept in test-artifacts/report.png.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess

import numpy
import pytest
from conftest import GOLD, ROOT, build_repo_corpus, ten_gold_documents
from typer.testing import CliRunner

from workbench.cli import app

ARTIFACTS = ROOT / "test-artifacts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Test-only: appended to a copy of the report (the report itself has no script) to ask the
# browser whether every image decoded.
PROBE = """<script>window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var decoded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var out = document.createElement("div"); out.id = "probe";
  out.textContent = "decoded " + decoded + " of " + images.length;
  document.body.appendChild(out);
});</script>"""


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory, ruler_rel_model):
    """The report of a NER -> REL pipeline on every gold document, twice (10 documents: intervals), baselines included."""
    work = tmp_path_factory.mktemp("html")
    corpus = build_repo_corpus(work)
    out = work / "report"
    gold = ten_gold_documents(work)
    args = ["evaluate", "--model", str(ruler_rel_model), "--data", str(gold), "--corpus", corpus.output, "-o", str(out), "--bootstrap", "200"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium not found: `make browser` installs Debian's package (`make test` runs it first)")


def run_chromium(tmp_path, *args: str) -> str:
    # Root needs --no-sandbox; a private profile keeps parallel runs from locking each other out.
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_report_html_is_self_contained(report_dir):
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    metrics = json.loads((report_dir / "metrics.json").read_text())
    assert not re.search(r"https?://|<script|<link|@import|url\(", html)
    sources = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(sources) >= 5  # per label, confusion, both system plots, relation thresholds
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_SIGNATURE)
    for doc_id in metrics["document_ids"]:
        assert f'id="doc-{doc_id}"' in html
    documents = len(metrics["document_ids"])
    assert html.count('<div class="entities"') == 2 * documents  # displaCy: gold and predicted
    assert html.count('<svg class="arcs"') == documents  # every gold document has relations
    # The same sections as report.md, model and baselines side by side.
    for heading in ("Model and baselines", "Partial matching", "Label confusion", "Where end-to-end relation errors come from"):
        assert heading in html
    assert "gazetteer" in html and "95% intervals" in html


def test_report_html_renders_in_headless_chromium(report_dir, tmp_path):
    from PIL import Image

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    url = (report_dir / "report.html").as_uri()
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", url)
    assert shot.read_bytes().startswith(PNG_SIGNATURE)
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2400)
    pixels = numpy.asarray(image.resize((128, 240))).reshape(-1, 3)
    assert (pixels != 255).any(axis=1).mean() > 0.05  # not a blank page
    assert len(numpy.unique(pixels, axis=0)) > 50  # text, tables and plots, not one flat colour

    probe = tmp_path / "probe.html"
    probe.write_text((report_dir / "report.html").read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    for png in report_dir.glob("*.png"):
        png.unlink()  # the page must not need the files beside it
    dom = run_chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    images = len(re.findall(r"<img ", (report_dir / "report.html").read_text(encoding="utf-8")))
    assert f'<div id="probe">decoded {images} of {images}</div>' in dom
    metrics = json.loads((report_dir / "metrics.json").read_text())
    assert dom.count('<section class="document"') == len(metrics["document_ids"])
    assert "<svg" in dom and "<table" in dom


def contender_of(legend: str) -> str:
    """The contender a bar's legend names: 'gazetteer (gold entities)' is the gazetteer's relation step alone."""
    name, scope = legend.split(" (", 1)
    return f"{name} on gold entities" if scope.startswith("gold entities") else name


def test_one_colour_per_contender_across_the_report(tmp_path, ruler_rel_model, monkeypatch):
    from matplotlib.colors import to_hex

    from workbench.evaluation import plots

    drawn, save = {}, plots.save_png

    def keep(fig, path):
        drawn[path.name] = fig
        save(fig, path)

    monkeypatch.setattr(plots, "save_png", keep)
    corpus = build_repo_corpus(tmp_path)
    args = ["evaluate", "--model", str(ruler_rel_model), "--data", str(GOLD), "--corpus", corpus.output, "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    from matplotlib.container import BarContainer

    def colour(patch) -> str:
        # A hatched bar (recall, or the model on a baseline's fewer labels) shows its contender's colour as hatching.
        return to_hex(patch.get_edgecolor() if patch.get_hatch() else patch.get_facecolor())

    def bar_sets(chart: str) -> list:
        return [c for c in drawn[chart].axes[0].containers if isinstance(c, BarContainer)]

    colours: dict[str, set] = {}
    for chart in ("systems_ner.png", "systems_rel.png"):
        for bars in bar_sets(chart):
            colours.setdefault(contender_of(bars.get_label()), set()).update(colour(p) for p in bars.patches)
    # Entities: model, gazetteer, the model on en_core_web_sm's labels, en_core_web_sm; relations: model and
    # gazetteer, each end to end and on gold entities.
    assert set(colours) == {"model", "gazetteer", "en_core_web_sm", "model on gold entities", "gazetteer on gold entities"}
    assert all(len(found) == 1 for found in colours.values()), colours
    by_contender = {name: found.pop() for name, found in colours.items()}
    assert len(set(by_contender.values())) == len(by_contender), by_contender
    # The model's own plots use its colours too: per label (precision, recall) and against the threshold (on gold entities).
    per_label = {colour(p) for bars in bar_sets("per_label.png") for p in bars.patches}
    assert per_label == {by_contender["model"]}
    curves = {to_hex(line.get_color()) for ax in drawn["rel_thresholds.png"].axes for line in ax.get_lines() if line.get_label() in ("precision", "recall")}
    assert curves == {by_contender["model on gold entities"]}
