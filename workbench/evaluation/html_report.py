"""report.html: the report's blocks and every evaluated document in one self-contained file.

Self-contained means it opens anywhere, from a mail attachment or a CI artifact: CSS inline,
plots inlined as base64 PNG data URIs, no scripts, fonts or external addresses.
"""

from __future__ import annotations

import base64
import re
from html import escape
from pathlib import Path

from workbench.evaluation.doc_view import document_html, relation_palette
from workbench.evaluation.evaluate import Evaluation

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1400px; padding: 0 16px; color: #222; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 36px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; vertical-align: top; }
th { background: #f6f6f6; } td.r, th.r { text-align: right; white-space: nowrap; }
img.plot { max-width: 100%; border: 1px solid #eee; margin: 6px 0; }
code { background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
nav a { margin-right: 12px; font-size: 13px; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.column { border: 1px solid #e4e4e4; border-radius: 6px; padding: 4px 12px; font-size: 14px; }
.column h4 { margin: 6px 0; }
.scroll { overflow-x: auto; border: 1px solid #eee; }
svg.arcs text.node { font-size: 11px; } svg.arcs text.side { font-size: 11px; fill: #888; }
table.relations tr.missed td, table.relations tr.false-positive td { background: #fff1f1; }
table.relations tr.hit td { background: #f1fff3; }
.legend { font-size: 13px; color: #555; }
.swatch { border-bottom: 3px solid; margin-right: 12px; padding-bottom: 1px; }
"""


def _inline(text: str) -> str:
    """Escape, then the two Markdown marks the report uses: **bold** and `code`."""
    html = escape(text.replace("\\|", "|"))
    html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", html)


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _blocks_html(report, out_dir: Path) -> list[str]:
    parts = []
    for block in report.blocks:
        kind = block[0]
        if kind == "h":
            level, text = block[1], block[2]
            anchor = f' id="{_anchor(text.split(":")[0])}"' if level == 2 else ""
            parts.append(f"<h{level}{anchor}>{_inline(text)}</h{level}>")
        elif kind == "p":
            parts.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "img":
            parts.append(f'<img class="plot" alt="{escape(block[2])}" src="{_data_uri(out_dir / block[1])}">')
        elif kind == "table":
            table = block[1]
            cls = ['class="r"' if a == "r" else "" for a in table.alignment()]
            head = "".join(f"<th {c}>{_inline(h)}</th>" for c, h in zip(cls, table.header))
            body = "".join("<tr>" + "".join(f"<td {c}>{_inline(v)}</td>" for c, v in zip(cls, row)) + "</tr>" for row in table.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return parts


def _documents_html(evaluation: Evaluation, colors: dict[str, str]) -> list[str]:
    with_relations = evaluation.rel is not None
    parts = [
        '<h2 id="documents">Documents</h2>',
        '<p class="legend">Gold on the left, predictions on the right. A striped entity marked ✗ has no exact match '
        "(same span and label) on the other side: missed on the left, a false positive on the right."
        + (" Relations: gold arcs above the entities, predicted below; a dashed arc is missed (above) or a false "
           "positive (below); an arrowhead points at the tail of a directed type." if with_relations else "")
        + "</p>",
    ]
    if with_relations:
        swatches = "".join(
            f'<span class="swatch" style="border-color: {color}">{escape(name)}</span>'
            for name, color in relation_palette(evaluation.scheme.relation_types, colors).items()
        )
        parts.append(f'<p class="legend">Relation types: {swatches}</p>')
    for outcome in evaluation.outcomes:
        parts.append(
            document_html(outcome, colors, evaluation.scheme, with_relations)
        )
    return parts


def render_html(report, evaluation: Evaluation, out_dir: Path, colors: dict[str, str]) -> str:
    sections = [b[2] for b in report.blocks if b[0] == "h" and b[1] == 2]
    nav = "".join(f'<a href="#{_anchor(t.split(":")[0])}">{_inline(t.split(":")[0])}</a>' for t in sections)
    nav += '<a href="#documents">Documents</a>'
    blocks = _blocks_html(report, Path(out_dir))
    body = [blocks[0], f"<nav>{nav}</nav>", *blocks[1:], *_documents_html(evaluation, colors)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Evaluation report: {escape(evaluation.model)}</title><style>{CSS}</style></head>\n"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
