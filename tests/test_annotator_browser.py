"""The annotator's seat: Doccano's web UI in a real browser, after `doccano push` with pre-annotations and `annotator add`.

Debian's chromium, driven by Playwright's Python package (launched by path: no
browser download). It fails, not skips, without chromium: `make browser`
installs it and `make test` runs that first. The steps wait for what a person
waits for: the project's name in the app bar before "Start Annotation" (clicked
earlier, Doccano goes to /projects/N/undefined), the label panel before reading
the text. Doccano draws only the lines on screen (a recycling scroller), so the
drawn spans are collected while scrolling through the document. Screenshots are
kept in test-artifacts/annotator-*.png.
"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from conftest import ROOT, build_repo_corpus
from doccano_helpers import cli, login, relation_keys, span_key, write_config

from workbench.doccano.config import load_settings, read_guideline
from workbench.doccano.push import articles_from_corpus, push, records_predictor
from workbench.records import read_records

ARTIFACTS = ROOT / "test-artifacts"
PROJECT = "annotator-seat"
ANNOTATOR, PASSWORD = "erin", "erin-Pass-2024"
DOC = "004_0fbc241607889f95"
# "circles" (23-30) in "Turkish foreign policy circles reported ...": no gold span covers it.
NEW_SPAN = (23, 30, "ORG")
# "Hakan Fidan", a gold PERSON: the head of the relation the annotator draws.
HEAD = (126, 137, "PERSON")
NEW_RELATION = ((126, 137), (23, 30), "AFFILIATION")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# Doccano 1.8.4's toolbar buttons have no text, only Material Design icons: these are their paths' starts.
ICON_UNCONFIRMED = "M19,6.41"  # mdi-close: the document is not confirmed; pressing it confirms
ICON_CONFIRMED = "M21,7L9,19"  # mdi-check
ICON_GUIDELINE = "M21,4H3A2,2"  # the book icon

# The spans and relation labels drawn now, with character offsets: each drawn line is an <svg> whose
# <text id="START:END"> holds that stretch of the document; a span is a <line> under it with its label beside.
# Views the scroller parks off screen for reuse are skipped.
DRAWN = """() => {
  const out = {lines: [], spans: []};
  for (const svg of document.querySelectorAll("#container svg[id^=svg]")) {
    const box = svg.getBoundingClientRect();
    const text = svg.querySelector("text[id]");
    if (!text || box.bottom < 0 || box.top > window.innerHeight) continue;
    const [start, end] = text.id.split(":").map(Number);
    const relations = Array.from(svg.querySelectorAll("g > path + g > text"), t => t.textContent);
    out.lines.push({start, end, relations});
    const chars = text.getNumberOfChars();
    for (const line of svg.querySelectorAll("line")) {
      const label = line.parentElement.querySelector("g text");
      if (!label) continue;
      const x1 = Number(line.getAttribute("x1")), x2 = Number(line.getAttribute("x2"));
      let first = 0, last = 0, d1 = Infinity, d2 = Infinity;
      for (let i = 0; i < chars; i++) {
        const s = Math.abs(text.getStartPositionOfChar(i).x - x1), e = Math.abs(text.getEndPositionOfChar(i).x - x2);
        if (s < d1) { d1 = s; first = i; }
        if (e < d2) { d2 = e; last = i + 1; }
      }
      const rect = label.getBoundingClientRect();
      out.spans.push({start: start + first, end: start + last, label: label.textContent,
                      x: rect.left + rect.width / 2, y: rect.top + rect.height / 2});
    }
  }
  return out;
}"""
# Where on screen a character of the document is drawn (its line must be on screen).
CHAR = """(offset) => {
  for (const text of document.querySelectorAll("#container svg text[id]")) {
    const box = text.getBoundingClientRect();
    const [start, end] = text.id.split(":").map(Number);
    if (box.bottom < 0 || box.top > window.innerHeight || offset < start || offset >= end) continue;
    const m = text.getScreenCTM(), i = offset - start, ext = text.getExtentOfChar(i);
    return {left: m.a * text.getStartPositionOfChar(i).x + m.e, right: m.a * text.getEndPositionOfChar(i).x + m.e,
            y: m.d * (ext.y + ext.height / 2) + m.f};
  }
  return null;
}"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium not found: `make browser` installs Debian's package (`make test` runs it first)")


@pytest.fixture(scope="module")
def seat(doccano_server, tmp_path_factory, gold_records, scheme):
    """One article pushed with its gold annotations as pre-annotations, the repository's guideline and description; erin added."""
    folder = tmp_path_factory.mktemp("seat")
    corpus = build_repo_corpus(folder).output
    description = load_settings(ROOT / "configs" / "doccano.yml").description
    config = write_config(folder, PROJECT, description=description)
    settings = load_settings(config)
    predictions = records_predictor(gold_records)
    admin = login(doccano_server)
    pushed = push(admin, PROJECT, settings.description, read_guideline(settings), scheme, articles_from_corpus(corpus, ids=[DOC]), predictions)
    gold = next(r for r in gold_records if r.doc_id == DOC)
    # What push reports is what the gold record holds: every span and relation uploaded.
    assert (pushed.counts.uploaded, pushed.counts.spans, pushed.counts.relations) == (1, len(gold.entities), len(gold.relations))
    added = cli("annotator", "add", ANNOTATOR, "--config", config, env={"DOCCANO_ANNOTATOR_PASSWORD": PASSWORD})
    assert added.exit_code == 0 and "pre-annotations copied for 1 document" in added.output, added.output
    return {"config": config, "corpus": corpus, "folder": folder, "gold": gold, "description": description, "url": doccano_server.url}


def drawn_document(page) -> tuple[set, dict]:
    """Every span drawn while scrolling from top to bottom, and each line's relation labels."""
    page.evaluate("window.scrollTo(0, 0)")
    spans: set = set()
    lines: dict = {}
    while True:
        before = None
        seen = page.evaluate(DRAWN)
        # Wait until the scroller has drawn what is on screen: two readings in a row agree.
        while seen != before:
            before = seen
            page.wait_for_timeout(150)
            seen = page.evaluate(DRAWN)
        spans |= {(s["start"], s["end"], s["label"]) for s in seen["spans"]}
        lines.update({(line["start"], line["end"]): Counter(line["relations"]) for line in seen["lines"]})
        # Half a screen down, as a reader scrolls; at the bottom the page no longer moves.
        moved = page.evaluate(f"() => {{ const y = window.scrollY; window.scrollBy(0, {VIEWPORT['height'] // 2}); return window.scrollY > y; }}")
        if not moved:
            break
    page.evaluate("window.scrollTo(0, 0)")
    return spans, lines


def expected_line_relations(gold, lines: dict) -> dict:
    """Per drawn line, the relation labels Doccano should draw there: one for each relation with an end on that line."""
    by_id = gold.entity_by_id()
    expected = {}
    for (start, end) in lines:
        on_line = lambda e: start <= e.start < end  # noqa: E731
        expected[(start, end)] = Counter(r.type for r in gold.relations if on_line(by_id[r.head]) or on_line(by_id[r.tail]))
    return expected


def drawn_span(page, key: tuple) -> dict:
    return next(s for s in page.evaluate(DRAWN)["spans"] if (s["start"], s["end"], s["label"]) == key)


def toolbar_button(page, icon: str):
    return page.locator(f"button:has(svg path[d^='{icon}'])").first


def test_annotator_sees_pre_annotations_and_guideline_and_their_work_comes_back(seat, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("annotator-*.png"):
        old.unlink()
    gold = seat["gold"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium(), args=FLAGS, headless=True, viewport=VIEWPORT
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{seat['url']}/auth")
            page.get_by_label("Username").fill(ANNOTATOR)
            page.get_by_label("Password").fill(PASSWORD)
            page.locator(".v-card").get_by_role("button", name="Login").click()

            # The project list: the description says what the task is and where the guideline is.
            row = page.locator("tr", has=page.get_by_role("link", name=PROJECT))
            row.wait_for()
            assert " ".join(seat["description"].split()) in " ".join(row.inner_text().split())
            page.screenshot(path=ARTIFACTS / "annotator-1-projects.png")

            page.get_by_role("link", name=PROJECT).click()
            page.locator("header").get_by_text(PROJECT).wait_for()
            page.get_by_text("Start Annotation").click()
            page.wait_for_url("**/sequence-labeling**")
            page.locator(".v-chip", has_text="PERSON").first.wait_for()
            page.locator("#container svg text[id]").first.wait_for()
            page.evaluate("document.fonts.ready.then(() => true)")
            page.screenshot(path=ARTIFACTS / "annotator-2-document.png")

            # Every pre-annotated span at its exact offsets (’s, Türkiye and all), every relation drawn.
            spans, lines = drawn_document(page)
            assert spans == {span_key(e) for e in gold.entities}
            assert lines == expected_line_relations(gold, lines)
            # The lines read cover the whole text.
            assert min(lines)[0] == 0 and max(end for _, end in lines) == len(gold.text)

            # The guideline behind the book icon: the "Working in Doccano" section, no maintainers' note.
            toolbar_button(page, ICON_GUIDELINE).click()
            dialog = page.locator(".v-dialog--active")
            section = dialog.get_by_role("heading", name="Working in Doccano")
            section.wait_for()
            shown = dialog.inner_text()
            assert "configs/labels.yml" not in shown and "maintainers" not in shown and "shared/" not in shown
            assert "filters the list" in shown and "book icon" in shown
            section.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "annotator-3-guideline.png")
            page.mouse.click(VIEWPORT["width"] - 20, VIEWPORT["height"] - 20)  # beside the dialog, which closes it
            dialog.wait_for(state="hidden")

            # A new span: select "circles" with the mouse, pick ORG in the pop-up.
            first, last = page.evaluate(CHAR, NEW_SPAN[0]), page.evaluate(CHAR, NEW_SPAN[1] - 1)
            page.mouse.move(first["left"] + 1, first["y"])
            page.mouse.down()
            page.mouse.move(last["right"] - 1, last["y"], steps=5)
            page.mouse.up()
            page.locator(".v-menu__content").get_by_text(NEW_SPAN[2], exact=True).click()
            page.wait_for_function(f"() => ({DRAWN})().spans.some(s => s.start === {NEW_SPAN[0]} && s.end === {NEW_SPAN[1]})")

            # A relation: switch the label panel to Relation, click the label under each end, pick the type.
            page.get_by_text("Span", exact=True).click()
            page.get_by_text("Relation", exact=True).wait_for()
            for key in (HEAD, NEW_SPAN):
                spot = drawn_span(page, key)
                page.mouse.click(spot["x"], spot["y"])
            page.locator(".v-menu__content").get_by_text(NEW_RELATION[2], exact=True).click()
            page.wait_for_function(
                f"() => ({DRAWN})().lines.find(l => l.start === 0).relations.includes('{NEW_RELATION[2]}')"
            )

            # Confirm: the cross turns into a check.
            toolbar_button(page, ICON_UNCONFIRMED).click()
            toolbar_button(page, ICON_CONFIRMED).wait_for()
            page.screenshot(path=ARTIFACTS / "annotator-4-confirmed.png")
        except Exception:
            page.screenshot(path=ARTIFACTS / "annotator-failed.png")
            raise
        finally:
            browser.close()

    pulled = cli("pull", "--config", seat["config"], "--name", "seat", "--corpus", seat["corpus"])
    assert pulled.exit_code == 0, pulled.output
    [record] = read_records(seat["folder"] / "snapshots" / "seat" / "annotators" / f"{ANNOTATOR}.jsonl")
    assert record.doc_id == DOC and record.meta["confirmed"] is True
    assert {span_key(e) for e in record.entities} == {span_key(e) for e in gold.entities} | {NEW_SPAN}
    assert relation_keys(record.entities, record.relations) == relation_keys(gold.entities, gold.relations) | {NEW_RELATION}
