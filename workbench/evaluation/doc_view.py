"""One evaluated document as HTML: gold and predicted entities side by side (displaCy), and its relations.

Relations are drawn as arcs over the entities that take part in one, in text order: gold
above the line, predicted below, coloured by type; an arc with no counterpart on the other
side (missed, or false positive) is dashed. A table lists the same relations in words.
"""

from __future__ import annotations

from html import escape

from spacy import displacy

from workbench.evaluation.evaluate import DocOutcome
from workbench.labels import LabelScheme
from workbench.metrics import relation_items
from workbench.records import AnnotatedDoc

FALLBACK_COLORS = ("#7aa6ff", "#ffb86b", "#8fd694", "#ff8fa3", "#c3a6ff", "#ffe08a", "#9ee6e6", "#d0d0d0")
STEP, MARGIN, BAND, MAX_RISE = 112, 24, 26, 120
WRONG = "✗"


def _color(name: str, colors: dict[str, str], index: int) -> str:
    return colors.get(name) or FALLBACK_COLORS[index % len(FALLBACK_COLORS)]


def relation_palette(types: list[str], colors: dict[str, str]) -> dict[str, str]:
    return {t: _color(t, colors, i) for i, t in enumerate(types)}


def _striped(color: str) -> str:
    # displaCy puts the colour into a CSS background, so a gradient marks an unmatched span.
    return f"repeating-linear-gradient(135deg, {color}, {color} 6px, #ffffff 6px, #ffffff 9px)"


def _displacy(record: AnnotatedDoc, unmatched: set[tuple], colors: dict[str, str], labels: list[str]) -> str:
    palette = {}
    for i, label in enumerate(labels):
        palette[label] = _color(label, colors, i)
        palette[f"{label} {WRONG}"] = _striped(palette[label])
    ents = []
    for e in sorted(record.entities, key=lambda e: (e.start, e.end)):
        wrong = (e.start, e.end, e.label) in unmatched
        ents.append({"start": e.start, "end": e.end, "label": f"{e.label} {WRONG}" if wrong else e.label})
    return displacy.render({"text": record.text, "ents": ents, "title": None}, style="ent", manual=True, page=False, options={"colors": palette})


def entity_columns(outcome: DocOutcome, colors: dict[str, str], labels: list[str]) -> str:
    gold = {(e.start, e.end, e.label) for e in outcome.gold.entities}
    pred = {(e.start, e.end, e.label) for e in outcome.predicted.entities}
    return (
        '<div class="columns">'
        f'<div class="column"><h4>Gold</h4>{_displacy(outcome.gold, gold - pred, colors, labels)}</div>'
        f'<div class="column"><h4>Predicted</h4>{_displacy(outcome.predicted, pred - gold, colors, labels)}</div>'
        "</div>"
    )


def relation_rows(outcome: DocOutcome, scheme: LabelScheme) -> list[dict]:
    """Gold and predicted relations, each with its status: hit, missed or false positive."""
    rows = []
    keys = {}
    for side, record in (("gold", outcome.gold), ("predicted", outcome.predicted)):
        keys[side] = set(relation_items(record, scheme))
    for side, record, other, status in (
        ("gold", outcome.gold, "predicted", "missed"),
        ("predicted", outcome.predicted, "gold", "false positive"),
    ):
        for (first, second), label in sorted(set(relation_items(record, scheme))):
            hit = ((first, second), label) in keys[other]
            if hit and side == "predicted":
                continue  # a hit is listed once, from the gold side
            rows.append({"side": side, "status": "hit" if hit else status, "type": label, "head": first, "tail": second, "symmetric": scheme.is_symmetric(label)})
    rows.sort(key=lambda r: (min(r["head"][0], r["tail"][0]), r["type"], r["side"]))
    return rows


def _arc(rows_x: dict, row: dict, axis: float, up: bool, color: str, text: str) -> str:
    x1, x2 = rows_x[row["head"][:2]], rows_x[row["tail"][:2]]
    rise = min(MAX_RISE, 16 + 14 * abs(x2 - x1) / STEP)
    sign = -1 if up else 1
    top = axis + sign * rise
    dash = ' stroke-dasharray="5 4"' if row["status"] != "hit" else ""
    label = f"{row['type']}: {text[row['head'][0]:row['head'][1]]} → {text[row['tail'][0]:row['tail'][1]]} ({row['status']})"
    parts = [
        f'<g><title>{escape(label)}</title>',
        f'<path d="M{x1:.0f},{axis:.0f} C{x1:.0f},{top:.0f} {x2:.0f},{top:.0f} {x2:.0f},{axis:.0f}" fill="none" stroke="{color}" stroke-width="2"{dash}/>',
    ]
    if not row["symmetric"]:
        tip = axis
        base = axis + sign * 8
        parts.append(f'<polygon points="{x2 - 4:.0f},{base:.0f} {x2 + 4:.0f},{base:.0f} {x2:.0f},{tip:.0f}" fill="{color}"/>')
    parts.append("</g>")
    return "".join(parts)


def relation_svg(outcome: DocOutcome, rows: list[dict], colors: dict[str, str], types: list[str]) -> str:
    """Arcs between the entities in a relation: gold above the line of entities, predicted below."""
    spans = sorted({row[end][:2] for row in rows for end in ("head", "tail")})
    if not spans:
        return ""
    text = outcome.gold.text
    xs = {span: MARGIN + STEP / 2 + STEP * i for i, span in enumerate(spans)}
    width = 2 * MARGIN + STEP * len(spans)
    upper, lower = MAX_RISE + 10, MAX_RISE + 10
    band_top, band_bottom = upper, upper + BAND
    height = band_bottom + lower
    palette = relation_palette(types, colors)
    parts = [
        f'<svg class="arcs" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">',
        f'<text x="4" y="14" class="side">gold</text><text x="4" y="{height - 6}" class="side">predicted</text>',
        f'<rect x="0" y="{band_top}" width="{width}" height="{BAND}" fill="#f3f3f3"/>',
    ]
    for span in spans:
        words = " ".join(text[span[0] : span[1]].split())
        short = words if len(words) <= 17 else words[:16] + "…"
        parts.append(f'<text x="{xs[span]:.0f}" y="{band_top + 17}" text-anchor="middle" class="node"><title>{escape(words)}</title>{escape(short)}</text>')
    for row in rows:
        color = palette.get(row["type"], "#888888")
        if row["side"] == "gold":
            parts.append(_arc(xs, row, band_top, True, color, text))
        if row["side"] == "predicted" or row["status"] == "hit":
            parts.append(_arc(xs, row, band_bottom, False, color, text))
    parts.append("</svg>")
    return "".join(parts)


def relation_table(outcome: DocOutcome, rows: list[dict]) -> str:
    text = outcome.gold.text
    marks = {"hit": "✓ found", "missed": "✗ missed", "false positive": "✗ false positive"}
    body = "".join(
        f'<tr class="{row["status"].replace(" ", "-")}"><td>{marks[row["status"]]}</td><td>{escape(row["type"])}</td>'
        f"<td>{escape(text[row['head'][0]:row['head'][1]])} <small>{row['head'][2]}</small></td>"
        f"<td>{escape(text[row['tail'][0]:row['tail'][1]])} <small>{row['tail'][2]}</small></td></tr>"
        for row in rows
    )
    return f'<table class="relations"><thead><tr><th></th><th>type</th><th>head</th><th>tail</th></tr></thead><tbody>{body}</tbody></table>'


def document_html(outcome: DocOutcome, colors: dict[str, str], scheme: LabelScheme, with_relations: bool) -> str:
    doc_id = escape(outcome.gold.doc_id)
    parts = [f'<section class="document" id="doc-{doc_id}"><h3>{doc_id}</h3>', entity_columns(outcome, colors, scheme.entity_labels)]
    if with_relations:
        rows = relation_rows(outcome, scheme)
        parts.append("<h4>Relations</h4>")
        if rows:
            parts += [f'<div class="scroll">{relation_svg(outcome, rows, colors, scheme.relation_types)}</div>', relation_table(outcome, rows)]
        else:
            parts.append("<p>No gold and no predicted relation.</p>")
    parts.append("</section>")
    return "".join(parts)
