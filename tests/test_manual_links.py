"""The manual's relative links (README.md and docs/**/*.md) point at files and headings that exist."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# [text](target) outside code; an image ![..](..) too. Targets with a scheme (https:, mailto:) are not checked.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def strip_code(text: str) -> list[str]:
    """The page's lines with fenced blocks blanked and inline code removed, so examples are not links."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            lines.append("")
            continue
        lines.append("" if fenced else re.sub(r"`[^`]*`", "", line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            base = slug(match.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(page: Path) -> list[tuple[int, str]]:
    return [
        (number, target)
        for number, line in enumerate(strip_code(page.read_text(encoding="utf-8")), start=1)
        for target in LINK.findall(line)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)
    ]


def broken(page: Path) -> list[str]:
    problems = []
    for number, target in links(page):
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        where = f"{page.relative_to(ROOT)}:{number}: {target}"
        if not dest.exists():
            problems.append(f"{where}: no such file")
        elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
            problems.append(f"{where}: no heading with anchor #{anchor}")
    return problems


def test_slug_follows_github():
    # Worked by hand from GitHub's rules: backticks and dots dropped, '/' dropped, spaces to hyphens.
    assert slug("Corpus (`configs/corpus.yml`)") == "corpus-configscorpusyml"
    assert slug("Reach: the recall ceiling of relation extraction") == "reach-the-recall-ceiling-of-relation-extraction"
    assert slug("Active-learning curve.json") == "active-learning-curvejson"


def test_a_broken_link_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Here it is\n", encoding="utf-8")
    page.write_text(
        "[ok](other.md#here-it-is) [gone](missing.md) [bad anchor](other.md#nowhere)\n"
        "`[in code](missing.md)` [web](https://example.org/x)\n```\n[fenced](missing.md)\n```\n",
        encoding="utf-8",
    )
    assert broken(page) == [
        "page.md:1: missing.md: no such file",
        "page.md:1: other.md#nowhere: no heading with anchor #nowhere",
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert broken(page) == []
