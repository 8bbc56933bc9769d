"""Agreement between annotators: pairwise F1 on entities and relations, token-level Cohen's kappa.

Every pair of annotators is compared on the documents both of them confirmed.
F1 between two annotators is symmetric, 2 * agreed / (items of the first +
items of the second), and needs no gold side. Entities agree exactly (same
start, end and label) or by overlap (same label, overlapping characters, each
span matched at most once). Relations agree on both argument spans with their
labels and the type; symmetric types ignore direction. Kappa compares the BILUO
tag of every token. Figures of all pairs are pooled: counts summed, tokens
concatenated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from spacy.training import offsets_to_biluo_tags

from workbench.annotations.snapshot import CONFIRMED, MISSING, Snapshot
from workbench.docs import make_gold_nlp
from workbench.errors import WorkbenchError
from workbench.labels import LabelScheme
from workbench.metrics import Counts, LabelledScores, entity_items, relation_items, score_items
from workbench.records import AnnotatedDoc


@dataclass
class PairAgreement:
    """Counts of one pair of annotators; in Counts, tp = agreed, fn = only the first, fp = only the second."""

    annotators: tuple[str, str]
    doc_ids: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    exact: LabelledScores = field(default_factory=LabelledScores)
    overlap: LabelledScores = field(default_factory=LabelledScores)
    relations: LabelledScores = field(default_factory=LabelledScores)
    # Per relation type: unmatched relations whose other annotator lacks an argument span.
    missing_arguments: Counter = field(default_factory=Counter)
    tags: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))
    per_document: list[dict] = field(default_factory=list)


def spans_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def match_overlapping(first: list[tuple[int, int]], second: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A largest one-to-one matching of overlapping spans, as (index in first, index in second) pairs.

    Augmenting paths (Kuhn's algorithm) find the most pairs, so a long span
    cannot swallow two short ones and a greedy first choice cannot block a later
    match. Each span tries its partners by the most shared characters first.
    """

    def shared(i: int, j: int) -> int:
        return min(first[i][1], second[j][1]) - max(first[i][0], second[j][0])

    partners = [
        sorted((j for j, b in enumerate(second) if spans_overlap(a, b)), key=lambda j, i=i: (-shared(i, j), j))
        for i, a in enumerate(first)
    ]
    owner: dict[int, int] = {}

    def augment(i: int, visited: set[int]) -> bool:
        for j in partners[i]:
            if j not in visited:
                visited.add(j)
                if j not in owner or augment(owner[j], visited):
                    owner[j] = i
                    return True
        return False

    for i in range(len(first)):
        augment(i, set())
    return sorted((i, j) for j, i in owner.items())


def overlap_counts(first: AnnotatedDoc, second: AnnotatedDoc, scores: LabelledScores) -> Counts:
    """Add the overlap matches of one document, label by label, to `scores`; return the document's total."""
    total = Counts()
    labels = sorted({e.label for e in first.entities} | {e.label for e in second.entities})
    for label in labels:
        a = sorted({(e.start, e.end) for e in first.entities if e.label == label})
        b = sorted({(e.start, e.end) for e in second.entities if e.label == label})
        matched = len(match_overlapping(a, b))
        counts = Counts(tp=matched, fp=len(b) - matched, fn=len(a) - matched)
        scores.counts(label).add(counts)
        total.add(counts)
    return total


def biluo_tags(doc, record: AnnotatedDoc) -> list[str]:
    """One BILUO tag per token of `doc` (the record's text, tokenized)."""
    offsets = set()
    for ent in record.entities:
        # A span that cuts a token is widened to whole tokens: kappa compares tokens, not characters.
        span = doc.char_span(ent.start, ent.end, alignment_mode="expand")
        if span is None or not len(span):
            raise WorkbenchError(f"entity {ent.id!r} at {ent.start}-{ent.end} covers no token")
        offsets.add((span.start_char, span.end_char, ent.label))
    try:
        return offsets_to_biluo_tags(doc, sorted(offsets))
    except ValueError:
        raise WorkbenchError("overlapping entities cannot be tagged token by token; run `workbench annotations validate`") from None


def token_kappa(first: list[str], second: list[str]) -> float | None:
    # Imported here: scikit-learn takes a second or two to import, and only kappa needs it.
    from sklearn.metrics import cohen_kappa_score

    if not first:
        return None
    if first == second:
        # With one tag only (say, all O) sklearn's formula is 0/0; identical tags are full agreement.
        return 1.0
    return round(float(cohen_kappa_score(first, second)), 6)


def agreement_f1(counts: Counts) -> float | None:
    """F1 of two annotators; None when neither has anything to agree on."""
    return round(counts.f1, 6) if counts.tp + counts.fp + counts.fn else None


def _missing_arguments(unmatched: list, other: AnnotatedDoc, missing: Counter) -> int:
    """Count unmatched relations whose argument spans the other annotator does not have."""
    spans = {(e.start, e.end, e.label) for e in other.entities}
    count = 0
    for (head, tail), rel_type in unmatched:
        if head not in spans or tail not in spans:
            missing[rel_type] += 1
            count += 1
    return count


def _located_tags(snapshot: Snapshot, name: str, doc_id: str, doc) -> list[str]:
    try:
        return biluo_tags(doc, snapshot.docs[name][doc_id])
    except WorkbenchError as exc:
        raise snapshot.error(exc.message, name, doc_id) from None


def compare_document(pair: PairAgreement, snapshot: Snapshot, doc_id: str, scheme: LabelScheme, make_doc) -> None:
    """Add one document both annotators confirmed to the pair's counts and its per-document row."""
    first, second = (snapshot.docs[name][doc_id] for name in pair.annotators)
    tps, fps, fns = score_items(entity_items(first), entity_items(second), pair.exact)
    exact = Counts(len(tps), len(fps), len(fns))
    overlap = overlap_counts(first, second, pair.overlap)
    rel_tps, rel_fps, rel_fns = score_items(relation_items(first, scheme), relation_items(second, scheme), pair.relations)
    relations = Counts(len(rel_tps), len(rel_fps), len(rel_fns))
    missing = _missing_arguments(rel_fns, second, pair.missing_arguments) + _missing_arguments(rel_fps, first, pair.missing_arguments)
    doc = make_doc(first.text)
    tags_first, tags_second = (_located_tags(snapshot, name, doc_id, doc) for name in pair.annotators)
    pair.tags[0].extend(tags_first)
    pair.tags[1].extend(tags_second)
    pair.doc_ids.append(doc_id)
    pair.per_document.append(
        {
            "doc_id": doc_id,
            "annotators": list(pair.annotators),
            "disagreements": exact.fp + exact.fn + relations.fp + relations.fn,
            "entities": {**_entity_figures(exact, overlap), "kappa": token_kappa(tags_first, tags_second)},
            "relations": _relation_figures(relations, missing),
        }
    )


def compare_pair(snapshot: Snapshot, names: tuple[str, str], scheme: LabelScheme, make_doc) -> PairAgreement:
    pair = PairAgreement(names)
    for doc_id in snapshot.doc_ids():
        status = {name: snapshot.status(name, doc_id) for name in names}
        if all(s == CONFIRMED for s in status.values()):
            compare_document(pair, snapshot, doc_id, scheme, make_doc)
        elif any(s != MISSING for s in status.values()):
            # A document only other annotators have says nothing about this pair.
            pair.skipped.append({"doc_id": doc_id, "status": status})
    return pair


def _entity_figures(exact: Counts, overlap: Counts) -> dict:
    return {
        "f1_exact": agreement_f1(exact),
        "f1_overlap": agreement_f1(overlap),
        "spans": [exact.tp + exact.fn, exact.tp + exact.fp],
        "agreed_exact": exact.tp,
        "agreed_overlap": overlap.tp,
    }


def _relation_figures(counts: Counts, missing: int) -> dict:
    return {
        "f1": agreement_f1(counts),
        "relations": [counts.tp + counts.fn, counts.tp + counts.fp],
        "agreed": counts.tp,
        "missing_arguments": missing,
    }


def _pooled(scores: list[LabelledScores]) -> LabelledScores:
    pooled = LabelledScores()
    for part in scores:
        for label, counts in part.per_label.items():
            pooled.counts(label).add(counts)
    return pooled


def agreement_figures(snapshot: Snapshot, pairs: list[PairAgreement], scheme: LabelScheme) -> dict:
    """The agreement as JSON-ready data; every order is sorted, so the same input gives the same file."""
    exact, overlap, relations = (_pooled([getattr(p, name) for p in pairs]) for name in ("exact", "overlap", "relations"))
    missing = sum((p.missing_arguments for p in pairs), Counter())
    tags = ([t for p in pairs for t in p.tags[0]], [t for p in pairs for t in p.tags[1]])
    labels = sorted(set(scheme.entity_labels) | set(exact.per_label) | set(overlap.per_label))
    types = sorted(set(scheme.relation_types) | set(relations.per_label))
    per_document = sorted((row for p in pairs for row in p.per_document), key=lambda r: (-r["disagreements"], r["doc_id"], r["annotators"]))
    return {
        "annotators": snapshot.annotators,
        "source": snapshot.provenance(),
        "documents": len({doc_id for p in pairs for doc_id in p.doc_ids}),
        "pairs": [_pair_figures(p) for p in pairs],
        "entities": {
            "micro": {**_entity_figures(exact.micro(), overlap.micro()), "kappa": token_kappa(*tags), "tokens": len(tags[0])},
            "per_label": {label: _entity_figures(exact.counts(label), overlap.counts(label)) for label in labels},
        },
        "relations": {
            "micro": _relation_figures(relations.micro(), sum(missing.values())),
            "per_type": {t: _relation_figures(relations.counts(t), missing[t]) for t in types},
        },
        "per_document": per_document,
    }


def _pair_figures(pair: PairAgreement) -> dict:
    return {
        "annotators": list(pair.annotators),
        "documents": len(pair.doc_ids),
        "skipped": pair.skipped,
        "entities": {
            "f1_exact": agreement_f1(pair.exact.micro()),
            "f1_overlap": agreement_f1(pair.overlap.micro()),
            "kappa": token_kappa(*pair.tags),
        },
        "relations": {"f1": agreement_f1(pair.relations.micro())},
    }


def measure_agreement(snapshot: Snapshot, scheme: LabelScheme, make_doc=None) -> dict:
    """Compare every pair of annotators; see agreement_figures for the result."""

    if len(snapshot.annotators) < 2:
        raise WorkbenchError(f"agreement needs two annotators or more; found {', '.join(snapshot.annotators) or 'none'}")
    make_doc = make_doc or make_gold_nlp().make_doc
    pairs = [compare_pair(snapshot, names, scheme, make_doc) for names in combinations(snapshot.annotators, 2)]
    return agreement_figures(snapshot, pairs, scheme)
