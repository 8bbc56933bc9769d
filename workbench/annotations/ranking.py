"""Rank unannotated documents by what annotating them next would teach the model: uncertainty, diversity or random.

Uncertainty has two parts, each in [0, 1], and a document scores their mean:

- entities: spaCy's NER is a transition system, so a span's probability is the share of
  beam-search parses that contain it (the beam's scores normalised over the beam; what
  `EntityRecognizer.scored_ents` gives, and how Prodigy's `ner.teach` scores entities).
  A span's margin is |2p - 1|: 0 when the beam is split evenly on it, 1 when every parse
  agrees. The document's entity uncertainty is 1 - its smallest margin. The greedy action
  scores would give a margin per action, not per span, so they say less about which span
  is in doubt.
- relations: each candidate pair and type the relation component scores, against that
  type's own threshold: 1 - |p - t| / max(t, 1 - t), which is 1 on the threshold and 0 at
  the far end. The document's relation uncertainty is its largest such closeness.

Diversity picks documents far from everything already annotated and from each other
(greedy farthest-first over the pipeline's static word vectors, else hashed words; cosine distance), so a
batch does not spend its effort on near-duplicates. Random is a seeded shuffle. Every
order breaks ties by doc_id, so the same pool, model and seed give the same ranking.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy

from workbench.errors import WorkbenchError

ORDERS = ("uncertainty", "random", "diversity")
BEAM_WIDTH = 16
BAG_WIDTH = 4096
NER = "ner"
REL = "relation_extractor"


@dataclass(frozen=True)
class Uncertainty:
    """How unsure the model is about one document; `score` ranks it."""

    entity: float
    relation: float

    @property
    def score(self) -> float:
        return (self.entity + self.relation) / 2


@dataclass(frozen=True)
class RankedDoc:
    doc_id: str
    rank: int
    # The strategy's own measure: uncertainty, distance to the nearest document chosen
    # before it (diversity), or None (random).
    score: float | None
    uncertainty: Uncertainty | None = None


@dataclass(frozen=True)
class Ranking:
    order: str
    seed: int
    docs: list[RankedDoc]

    def top(self, n: int) -> list[str]:
        return [doc.doc_id for doc in self.docs[:n]]

    def to_dict(self) -> dict:
        return {"order": self.order, "seed": self.seed, "docs": [asdict(doc) for doc in self.docs]}


# Uncertainty


def entity_uncertainty(nlp, texts: Sequence[str], beam_width: int = BEAM_WIDTH, batch_size: int = 64) -> list[float]:
    """Per text, 1 - the smallest entity margin in the NER's beam (0 when every parse agrees)."""
    if NER not in nlp.pipe_names:
        raise WorkbenchError(f"uncertainty needs a statistical '{NER}' component; the pipeline has {', '.join(nlp.pipe_names) or 'none'}")
    ner = nlp.get_pipe(NER)
    before = nlp.pipe_names[: nlp.pipe_names.index(NER)]
    result = []
    # Fresh docs through the components before the NER only: the NER keeps entities it
    # finds preset, which would pin the beam.
    with nlp.select_pipes(enable=before):
        docs = list(nlp.pipe(texts, batch_size=batch_size))
    for start in range(0, len(docs), batch_size):
        beams = ner.beam_parse(docs[start : start + batch_size], beam_width=beam_width)
        for spans in ner.scored_ents(beams):
            margins = [abs(2 * min(p, 1.0) - 1) for p in spans.values()]
            result.append(1 - min(margins, default=1.0))
    return result


def relation_uncertainty(nlp, docs: list, batch_size: int = 64) -> list[float]:
    """Per doc (with predicted entities), the relation score closest to its type's threshold, as closeness in [0, 1]."""
    if REL not in nlp.pipe_names:
        return [0.0] * len(docs)
    component = nlp.get_pipe(REL)
    cutoffs = numpy.array([component.thresholds[label] for label in component.labels], dtype="f")
    result = []
    for start in range(0, len(docs), batch_size):
        for scores in component.predict(docs[start : start + batch_size]):
            allowed = _allowed_cells(scores.candidates, component.labels)
            result.append(float(threshold_closeness(scores.probs, cutoffs)[allowed].max()) if allowed.any() else 0.0)
    return result


def threshold_closeness(probs: numpy.ndarray, cutoffs: numpy.ndarray) -> numpy.ndarray:
    """1 - |p - t| / max(t, 1 - t) per cell: 1 on the type's threshold, 0 as far from it as a probability can be."""
    return 1 - numpy.abs(probs - cutoffs) / numpy.maximum(cutoffs, 1 - cutoffs)


def _allowed_cells(candidates, labels: Sequence[str]) -> numpy.ndarray:
    allowed = numpy.zeros((len(candidates), len(labels)), dtype=bool)
    for row, cand in enumerate(candidates):
        for col, label in enumerate(labels):
            allowed[row, col] = label in cand.allowed
    return allowed


def uncertainties(nlp, texts: Sequence[str], beam_width: int = BEAM_WIDTH, batch_size: int = 64) -> list[Uncertainty]:
    entity = entity_uncertainty(nlp, texts, beam_width, batch_size)
    if REL in nlp.pipe_names:
        # Entities first (the relation component scores their pairs itself, below).
        with nlp.select_pipes(disable=[REL]):
            docs = list(nlp.pipe(texts, batch_size=batch_size))
        relation = relation_uncertainty(nlp, docs, batch_size)
    else:
        relation = [0.0] * len(texts)
    return [Uncertainty(round(e, 6), round(r, 6)) for e, r in zip(entity, relation)]


# Diversity


def doc_vectors(nlp, texts: Sequence[str], batch_size: int = 256) -> numpy.ndarray:
    """Unit-length document vectors, one row per text (tokenizer only: no model runs).

    The mean of the pipeline's static word vectors where it has them; otherwise lower-cased
    words hashed into BAG_WIDTH buckets, so a pipeline trained without vectors still ranks.
    """
    has_vectors = bool(nlp.vocab.vectors.shape[0])
    width = nlp.vocab.vectors.shape[1] if has_vectors else BAG_WIDTH
    rows = numpy.zeros((len(texts), width), dtype="f")
    for row, doc in zip(rows, nlp.tokenizer.pipe(texts, batch_size=batch_size)):
        if has_vectors:
            row += doc.vector
        else:
            for token in doc:
                if not token.is_punct:
                    row[token.lower % BAG_WIDTH] += 1
        norm = numpy.linalg.norm(row)
        if norm:
            row /= norm
    return rows


def farthest_first(pool: numpy.ndarray, labelled: numpy.ndarray) -> tuple[list[int], list[float]]:
    """Greedy k-centre order of the pool rows, and each pick's cosine distance to the nearest row chosen or labelled before.

    With nothing labelled, the first pick is the row nearest the pool's centre (the most
    typical document), so the order does not hinge on an arbitrary start. Ties go to the
    lower index.
    """
    n = len(pool)
    order, distances = [], []
    taken = numpy.zeros(n, dtype=bool)
    if not n:
        return order, distances
    if len(labelled):
        nearest = (1 - pool @ labelled.T).min(axis=1)
    else:
        first = int(numpy.argmax(pool @ pool.mean(axis=0)))
        order.append(first)
        distances.append(0.0)
        taken[first] = True
        nearest = 1 - pool @ pool[first]
    while len(order) < n:
        pick = int(numpy.argmax(numpy.where(taken, -numpy.inf, nearest)))
        order.append(pick)
        distances.append(float(nearest[pick]))
        taken[pick] = True
        nearest = numpy.minimum(nearest, 1 - pool @ pool[pick])
    return order, distances


# Ranking


def random_order(doc_ids: Sequence[str], seed: int) -> list[str]:
    """The doc_ids in a seeded shuffle of their sorted order (so the input order does not matter)."""
    ids = sorted(doc_ids)
    return [ids[i] for i in numpy.random.default_rng(seed).permutation(len(ids))]


def rank_documents(
    nlp,
    pool: Mapping[str, str],
    order: str,
    seed: int = 0,
    labelled: Mapping[str, str] | None = None,
    beam_width: int = BEAM_WIDTH,
) -> Ranking:
    """Rank the pool (doc_id -> text) for annotation, best first; `labelled` are texts already annotated (diversity)."""
    if order not in ORDERS:
        raise WorkbenchError(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
    ids = sorted(pool)
    if order == "random":
        return Ranking(order, seed, [RankedDoc(doc_id, rank, None) for rank, doc_id in enumerate(random_order(ids, seed), 1)])
    if nlp is None:
        raise WorkbenchError(f"--order {order} needs a model (--with-predictions)")
    texts = [pool[doc_id] for doc_id in ids]
    if order == "uncertainty":
        found = uncertainties(nlp, texts, beam_width)
        ranked = sorted(zip(ids, found), key=lambda item: (-item[1].score, item[0]))
        docs = [RankedDoc(doc_id, rank, round(u.score, 6), u) for rank, (doc_id, u) in enumerate(ranked, 1)]
        return Ranking(order, seed, docs)
    known = [text for _, text in sorted((labelled or {}).items())]
    picks, distances = farthest_first(doc_vectors(nlp, texts), doc_vectors(nlp, known))
    docs = [RankedDoc(ids[pick], rank, round(distance, 6)) for rank, (pick, distance) in enumerate(zip(picks, distances), 1)]
    return Ranking(order, seed, docs)
