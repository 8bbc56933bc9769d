"""Markdown and plots for people: agreement, adjudication conflicts and annotation statistics."""

from __future__ import annotations

import hashlib
from pathlib import Path

from workbench.annotations.adjudicate import conflict_report, describe_conflict
from workbench.fileio import atomic_open, jsonl_line, write_json
from workbench.metrics import UNDEFINED, markdown_table, score, table_cell
from workbench.plotting import pyplot, save_png


def fmt(value) -> str:
    """A score to three decimals; – where there was nothing to score; anything else as it is."""
    return score(value, UNDEFINED) if value is None or isinstance(value, float) else str(value)


def table(headers: list[str], rows: list[list], numeric_from: int = 1) -> list[str]:
    """Lines of a Markdown table of values (scores to three decimals); columns from `numeric_from` on are right-aligned."""
    align = "l" * numeric_from + "r" * (len(headers) - numeric_from)
    return markdown_table(headers, [[table_cell(fmt(v)) for v in row] for row in rows], align)


def source_line(source: dict) -> str:
    if isinstance(source["snapshot"], list):
        return "Files: " + ", ".join(f"`{p}`" for p in source["snapshot"]) + "."
    return f"Snapshot `{source['snapshot']}` (manifest sha256 `{source['manifest_sha256'][:12]}…`)."


def status_text(skipped: list[dict]) -> str:
    """'d3 (alice confirmed, bob unconfirmed)' for each document left out."""
    return "; ".join(
        f"{s['doc_id']} ({', '.join(f'{name} {state}' for name, state in s['status'].items())})" for s in skipped
    ) or "none"


# --- agreement ---------------------------------------------------------------


def _plot_agreement(figures: dict, path: Path) -> None:
    plt = pyplot()
    labels = [l for l, s in figures["entities"]["per_label"].items() if s["f1_exact"] is not None]
    types = [t for t, s in figures["relations"]["per_type"].items() if s["f1"] is not None]
    fig, (left, right) = plt.subplots(
        1,
        2,
        figsize=(max(7, 0.9 * (len(labels) + len(types)) + 2), 3.4),
        gridspec_kw={"width_ratios": [max(len(labels), 1), max(len(types), 1)]},
    )
    width = 0.38
    per_label = figures["entities"]["per_label"]
    xs = range(len(labels))
    left.bar([x - width / 2 for x in xs], [per_label[l]["f1_exact"] for l in labels], width, label="exact")
    left.bar([x + width / 2 for x in xs], [per_label[l]["f1_overlap"] for l in labels], width, label="overlap")
    left.set_xticks(list(xs), [f"{l}\n(n={sum(per_label[l]['spans'])})" for l in labels], fontsize=8)
    left.set_title("Entities: F1 between annotators", fontsize=10)
    left.legend(loc="upper right", ncol=2, fontsize=8)
    per_type = figures["relations"]["per_type"]
    right.bar(range(len(types)), [per_type[t]["f1"] for t in types], 0.6, color="tab:green")
    right.set_xticks(list(range(len(types))), [f"{t}\n(n={sum(per_type[t]['relations'])})" for t in types], fontsize=8)
    right.set_title("Relations: F1 between annotators", fontsize=10)
    for ax in (left, right):
        # Headroom above 1.0 keeps the legend off the bars.
        ax.set_ylim(0, 1.15)
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    left.set_ylabel("F1")
    fig.tight_layout()
    save_png(fig, path)


def agreement_markdown(figures: dict, plot_name: str | None) -> str:
    entities, relations = figures["entities"], figures["relations"]
    micro = entities["micro"]
    lines = [
        "# Annotation agreement",
        "",
        f"Annotators: {', '.join(figures['annotators'])}. {source_line(figures['source'])}",
        "",
        f"Only documents that both annotators of a pair confirmed are compared: **{figures['documents']}** documents. "
        "F1 between two annotators is 2 × agreed / (items of the first + items of the second); "
        "– means neither annotator had anything to compare.",
        "",
        "## Pairs",
        "",
        *table(
            ["pair", "documents", "F1 exact", "F1 overlap", "kappa", "relation F1", "not compared"],
            [_pair_row(p) for p in figures["pairs"]],
        ),
        "",
        "## Entities",
        "",
        "Exact: same start, end and label. Overlap: same label and overlapping characters, each span matched at most once.",
        "",
        f"Token-level Cohen's kappa over BILUO tags: **{fmt(micro['kappa'])}** on {micro['tokens']} tokens.",
        "",
        *table(
            ["label", "F1 exact", "F1 overlap", "spans (first / second)", "agreed exact", "agreed overlap"],
            [_entity_row("**all labels**", micro)] + [_entity_row(l, s) for l, s in entities["per_label"].items()],
        ),
    ]
    if plot_name:
        lines += ["", f"![agreement per label and relation type]({plot_name})"]
    lines += [
        "",
        "## Relations",
        "",
        "Both argument spans with their labels and the type must agree; symmetric types ignore direction. "
        "Missing arguments: disagreeing relations whose argument span the other annotator does not have, "
        "so that the relation disagreement follows from an entity disagreement.",
        "",
        *table(
            ["type", "F1", "relations (first / second)", "agreed", "missing arguments"],
            [_relation_row("**all types**", relations["micro"])] + [_relation_row(t, s) for t, s in relations["per_type"].items()],
        ),
        "",
        "## Per document, most disagreements first",
        "",
        "Disagreements: spans without an exact match plus relations without a match.",
        "",
        *table(
            ["document", "pair", "disagreements", "F1 exact", "F1 overlap", "kappa", "relation F1", "missing arguments"],
            [_document_row(d) for d in figures["per_document"]],
            numeric_from=2,
        ),
    ]
    return "\n".join(lines) + "\n"


def _pair_row(p: dict) -> list:
    ents = p["entities"]
    return [" – ".join(p["annotators"]), p["documents"], ents["f1_exact"], ents["f1_overlap"], ents["kappa"], p["relations"]["f1"], status_text(p["skipped"])]


def _document_row(d: dict) -> list:
    ents, rels = d["entities"], d["relations"]
    return [d["doc_id"], " – ".join(d["annotators"]), d["disagreements"], ents["f1_exact"], ents["f1_overlap"], ents["kappa"], rels["f1"], rels["missing_arguments"]]


def _entity_row(name: str, s: dict) -> list:
    return [name, s["f1_exact"], s["f1_overlap"], f"{s['spans'][0]} / {s['spans'][1]}", s["agreed_exact"], s["agreed_overlap"]]


def _relation_row(name: str, s: dict) -> list:
    return [name, s["f1"], f"{s['relations'][0]} / {s['relations'][1]}", s["agreed"], s["missing_arguments"]]


def write_agreement(figures: dict, json_path: str | Path) -> dict[str, Path]:
    """JSON at `json_path`; the Markdown report and its plot beside it, with the same stem."""
    json_path = Path(json_path)
    paths = {"json": json_path, "report": json_path.with_suffix(".md"), "plot": json_path.with_suffix(".png")}
    write_json(paths["json"], figures)
    _plot_agreement(figures, paths["plot"])
    with atomic_open(paths["report"]) as fh:
        fh.write(agreement_markdown(figures, paths["plot"].name))
    return paths


# --- adjudication ------------------------------------------------------------


def conflicts_markdown(report: dict) -> str:
    rule = "every voter" if report["policy"] == "unanimous" else "more than half of the voters (both, with two)"
    lines = [
        "# Adjudication conflicts",
        "",
        source_line(report["source"]),
        "",
        f"Policy **{report['policy']}**: an entity or relation enters gold when {rule} made it; the voters of a document "
        f"are the annotators who confirmed it, and a document needs {report['min_annotators']} or more. "
        f"Gold: {report['documents']} documents (the gold file with sha256 `{report['gold_sha256']}`); "
        f"open conflicts: **{report['conflicts']}**.",
        "",
        f"Not adjudicated (too few confirmations): {status_text(report['skipped'])}.",
    ]
    for doc in report["per_document"]:
        state = f"resolved in review by {doc['reviewer'] or 'an adjudicator'}" if doc["reviewed"] else "open"
        count = len(doc["conflicts"])
        lines += ["", f"## {doc['doc_id']} ({count} conflict{'' if count == 1 else 's'}, {state})", "", f"Voters: {', '.join(doc['annotators'])}.", ""]
        lines += [f"- {table_cell(describe_conflict(c))}" for c in doc["conflicts"]]
    return "\n".join(lines) + "\n"


def write_adjudication(result, gold_path: str | Path) -> dict[str, Path]:
    """Gold JSONL at `gold_path`; the conflicts as `<stem>.conflicts.json` and `.md` beside it.

    The conflicts first, naming the sha256 of the gold they describe, and the gold last: a run
    stopped in between leaves the earlier gold in place, never a gold without its conflicts.
    """
    gold_path = Path(gold_path)
    stem = gold_path.with_suffix("")
    paths = {"gold": gold_path, "json": Path(f"{stem}.conflicts.json"), "report": Path(f"{stem}.conflicts.md")}
    gold = "".join(jsonl_line(r.to_dict()) for r in result.gold)
    report = {**conflict_report(result), "gold_sha256": hashlib.sha256(gold.encode("utf-8")).hexdigest()}
    write_json(paths["json"], report)
    with atomic_open(paths["report"]) as fh:
        fh.write(conflicts_markdown(report))
    with atomic_open(paths["gold"]) as fh:
        fh.write(gold)
    return paths


# --- statistics --------------------------------------------------------------

# Bins for the tables; the JSON and the plot keep every length.
LENGTH_BINS = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 9), (10, None))
DISTANCE_BINS = ((0, 0), (1, 2), (3, 5), (6, 10), (11, 30), (31, None))


def _bin_name(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else str(lo) if lo == hi else f"{lo}–{hi}"


def _binned(histogram: dict, bins) -> list[int]:
    return [sum(n for k, n in histogram.items() if lo <= int(k) and (hi is None or int(k) <= hi)) for lo, hi in bins]


def _mean(histogram: dict) -> str | None:
    total = sum(histogram.values())
    return f"{sum(int(k) * n for k, n in histogram.items()) / total:.1f}" if total else None


def _count_row(name: str, counts: dict, splits: list[str], histogram: dict, bins) -> list:
    """Counts per split and in total, then the histogram in bins, then its mean."""
    return [name, *(counts[s] for s in splits), counts["total"], *_binned(histogram, bins), _mean(histogram)]


def stats_markdown(data: dict) -> str:
    splits = data["splits"]
    documents = data["documents"]
    empty = [f"{s}: {', '.join(ids)}" for s, ids in data["without_annotations"].items() if ids]
    lines = [
        f"{documents['total']} documents ({', '.join(f'{s} {documents[s]}' for s in splits)}); "
        f"without annotations: {'; '.join(empty) or 'none'}",
        "",
        "Entities per label and split, and span length in tokens:",
        "",
        *table(
            ["label", *splits, "total", *(f"len {_bin_name(*b)}" for b in LENGTH_BINS), "mean len"],
            [_count_row(label, counts, splits, data["span_length_tokens"][label], LENGTH_BINS) for label, counts in data["entities"].items()],
        ),
        "",
        "Relations per type and split, tokens between the arguments, and how many cross sentences:",
        "",
        *table(
            ["type", *splits, "total", *(f"dist {_bin_name(*b)}" for b in DISTANCE_BINS), "mean dist", "cross-sentence"],
            [
                [*_count_row(t, counts, splits, data["relation_distance_tokens"][t], DISTANCE_BINS), data["cross_sentence"][t]]
                for t, counts in data["relations"].items()
            ],
        ),
    ]
    return "\n".join(lines) + "\n"


def _stacked_by_split(ax, counts: dict, splits: list[str], title: str) -> None:
    names = list(counts)
    bottom = [0] * len(names)
    for split in splits:
        values = [counts[n][split] for n in names]
        ax.bar(range(len(names)), values, 0.6, bottom=bottom, label=split)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xticks(list(range(len(names))), names, fontsize=7, rotation=30, ha="right")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)


def _summed_histogram(histograms: dict) -> dict[int, int]:
    total: dict[int, int] = {}
    for histogram in histograms.values():
        for k, n in histogram.items():
            total[int(k)] = total.get(int(k), 0) + n
    return dict(sorted(total.items()))


def plot_stats(data: dict, path: str | Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5))
    _stacked_by_split(axes[0][0], data["entities"], data["splits"], "Entities per label")
    _stacked_by_split(axes[0][1], data["relations"], data["splits"], "Relations per type")
    lengths = _summed_histogram(data["span_length_tokens"])
    axes[1][0].bar(list(lengths), list(lengths.values()), 0.8)
    axes[1][0].set_title("Span length (tokens)", fontsize=10)
    distances = _summed_histogram(data["relation_distance_tokens"])
    axes[1][1].bar(list(distances), list(distances.values()), 0.8)
    cross = sum(data["cross_sentence"].values())
    axes[1][1].set_title(f"Tokens between relation arguments ({cross} cross sentences)", fontsize=10)
    for ax in axes[1]:
        ax.set_ylabel("count")
    fig.tight_layout()
    save_png(fig, path)
