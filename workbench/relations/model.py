"""The relation model architecture: token vectors -> one feature row per candidate pair -> MLP -> logits per type.

Per candidate: mean-pooled vectors of the head span, the tail span and the tokens
between them (zeros when adjacent), plus hashed embeddings of the head label, the
tail label and the signed, bucketed distance (v1). v2 adds what tells one pair from
its neighbours: whether the pair shares a sentence, how many entities stand between
them and which labels they have; and, for types whose label config lists trigger
words, whether one stands between or around the pair (trigger_cues), with a learned
per-type weight that adds that cue straight to the type's logit. The model
returns logits; the component applies the sigmoid, so the binary cross-entropy
gradient is exactly (p - y) and does not vanish when an output saturates.
"""

# No `from __future__ import annotations`: confection validates the architecture's
# arguments against these type hints, which must be real types, not strings.

from typing import Callable, List, Tuple

import numpy
from spacy.strings import get_string_id
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import HashEmbed, Linear, Model, Relu, chain
from thinc.types import Floats2d, Ints1d

from workbench.relations.candidates import Candidate, sentence_index

RelationInput = Tuple[List[Doc], List[List[Candidate]]]
N_POOLED = 3  # head, tail, between
# v1: head label, tail label, distance; v2 adds same sentence, entities between, their labels.
N_CATEGORICAL = {1: 3, 2: 6}
TRIGGER_PRIOR = 2.0  # the logit a trigger word adds to its type before training
CUE_WINDOW = 3  # tokens before the first and after the second argument where trigger words count


@registry.architectures("workbench.RelationModel.v1")
def build_relation_model(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    feature_width: int = 16,
    dropout: float = 0.1,
    nO: int | None = None,
) -> Model[RelationInput, Floats2d]:
    """Logits (n_candidates, n_types) for the candidates of a batch of docs; nO is set from the labels at initialize."""
    return _relation_model(candidate_features(tok2vec, feature_width, version=1), tok2vec, hidden_width, dropout, nO)


@registry.architectures("workbench.RelationModel.v2")
def build_relation_model_v2(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    feature_width: int = 16,
    dropout: float = 0.1,
    nO: int | None = None,
) -> Model[RelationInput, Floats2d]:
    """v1 plus sentence, intervening-entity and trigger-word features (see the module docstring)."""
    return _relation_model(candidate_features(tok2vec, feature_width, version=2), tok2vec, hidden_width, dropout, nO)


def _relation_model(features: Model, tok2vec: Model, hidden_width: int, dropout: float, nO: int | None) -> Model:
    output_layer = Linear(nO=nO)
    scorer = chain(Relu(nO=hidden_width, dropout=dropout, normalize=True), output_layer)
    if features.attrs.get("version", 1) >= 2:
        model = with_trigger_prior(features, scorer, output_layer)
    else:
        model = chain(features, scorer)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    return model


def with_trigger_prior(features: Model, scorer: Model, output_layer: Model) -> Model:
    """The scorer's logits on the features, plus, per type, a learned weight times its trigger cue (the last feature columns).

    The weights start at TRIGGER_PRIOR, so a trigger word counts for its type before the
    type has examples to learn from; training then moves them like any weight.
    """
    return Model(
        "with_trigger_prior",
        _prior_forward,
        init=_prior_init,
        layers=[features, scorer],
        refs={"features": features, "scorer": scorer, "output_layer": output_layer},
        params={"W": None},
    )


def _prior_init(model: Model, X=None, Y=None) -> None:
    features, scorer = model.get_ref("features"), model.get_ref("scorer")
    features.initialize(X=X)
    scorer.initialize(X=features.predict(X) if X is not None else None, Y=Y)
    model.set_param("W", model.ops.alloc1f(model.get_ref("output_layer").get_dim("nO")) + TRIGGER_PRIOR)


def _prior_forward(model: Model, inputs, is_train: bool) -> Tuple[Floats2d, Callable]:
    X, backprop_features = model.get_ref("features")(inputs, is_train)
    logits, backprop_scorer = model.get_ref("scorer")(X, is_train)
    n_cues = _n_cues(model.get_ref("features"))
    W = model.get_param("W")
    cues = X[:, X.shape[1] - n_cues :]

    def backprop(d_logits: Floats2d):
        d_X = backprop_scorer(d_logits)
        if n_cues:
            model.inc_grad("W", (d_logits * cues).sum(axis=0))
            d_X[:, X.shape[1] - n_cues :] += d_logits * W
        return backprop_features(d_X)

    return (logits + cues * W if n_cues else logits), backprop


def candidate_features(tok2vec: Model, feature_width: int, version: int) -> Model[RelationInput, Floats2d]:
    # Hashing the label and distance strings needs no label inventory, so nothing about
    # entity labels has to be known (or serialised) before training starts.
    embed = HashEmbed(nO=feature_width, nV=512, seed=17)
    return Model(
        "candidate_features",
        _features_forward,
        init=_features_init,
        layers=[tok2vec, embed],
        refs={"tok2vec": tok2vec, "embed": embed},
        # triggers (v2): one list of trigger words per output column, set by the component
        # from its label scheme before initialize; empty lists, no cue features. Thinc
        # saves attrs with the weights.
        attrs={"version": version, **({"triggers": []} if version >= 2 else {})},
        dims={"nO": None},
    )


def _n_cues(model: Model) -> int:
    triggers = model.attrs.get("triggers") or []
    return len(triggers) if any(triggers) else 0


def _features_init(model: Model, X: RelationInput | None = None, Y=None) -> None:
    tok2vec, embed = model.get_ref("tok2vec"), model.get_ref("embed")
    tok2vec.initialize(X=X[0] if X is not None else None)
    _set_token_width(tok2vec, X[0] if X is not None else [])
    embed.initialize()
    n_categorical = N_CATEGORICAL[model.attrs.get("version", 1)]
    model.set_dim("nO", N_POOLED * tok2vec.get_dim("nO") + n_categorical * embed.get_dim("nO") + _n_cues(model))


def _set_token_width(tok2vec: Model, docs: List[Doc]) -> None:
    """Give the tok2vec its output width where it has none of its own.

    A transformer listener learns its width from the transformer it listens to, after the
    config is built, so the chain around it has no nO: read it off its output on the sample.
    """
    if not tok2vec.has_dim("nO") and docs:
        tok2vec.set_dim("nO", tok2vec.predict(docs[:1])[0].shape[1])


def _features_forward(model: Model, inputs: RelationInput, is_train: bool) -> Tuple[Floats2d, Callable]:
    docs, candidates = inputs
    ops = model.ops
    tokvecs, backprop_tokvecs = model.get_ref("tok2vec")(docs, is_train)
    doc_lengths = ops.asarray1i([len(doc) for doc in docs])
    flat = ops.flatten(tokvecs) if docs else ops.alloc2f(0, model.get_ref("tok2vec").get_dim("nO"))
    index, span_lengths = _span_rows(ops, candidates, [len(doc) for doc in docs])
    pooled = ops.reduce_mean(flat[index], span_lengths)
    version = model.attrs.get("version", 1)
    n_categorical = N_CATEGORICAL[version]
    keys = _categorical_keys(ops, candidates) if version == 1 else _categorical_keys_v2(ops, docs, candidates)
    embedded, backprop_embed = model.get_ref("embed")(keys, is_train)
    blocks = _split_blocks(pooled, N_POOLED) + _split_blocks(embedded, n_categorical)
    if _n_cues(model):
        blocks.append(ops.asarray2f(_candidate_cues(docs, candidates, model.attrs["triggers"])))
    output = ops.xp.hstack(blocks)
    width = flat.shape[1]
    categorical_end = N_POOLED * width + n_categorical * model.get_ref("embed").get_dim("nO")

    def backprop(d_output: Floats2d) -> RelationInput:
        pooled_part = N_POOLED * width
        d_pooled = _stack_blocks(ops, d_output[:, :pooled_part], N_POOLED)
        d_flat = ops.alloc2f(*flat.shape)
        ops.scatter_add(d_flat, index, ops.backprop_reduce_mean(d_pooled, span_lengths))
        # The cue columns past categorical_end are constant inputs: nothing to backpropagate.
        backprop_embed(_stack_blocks(ops, d_output[:, pooled_part:categorical_end], n_categorical))
        backprop_tokvecs(ops.unflatten(d_flat, doc_lengths))
        return inputs

    return output, backprop


def _span_rows(ops, candidates: List[List[Candidate]], doc_lengths: List[int]) -> Tuple[Ints1d, Ints1d]:
    """Rows of the flattened token matrix for every pooled span: all heads, then all tails, then all gaps."""
    heads, tails, gaps = [], [], []
    offset = 0
    for doc_candidates, length in zip(candidates, doc_lengths):
        for cand in doc_candidates:
            heads.append((offset + cand.head[0], offset + cand.head[1]))
            tails.append((offset + cand.tail[0], offset + cand.tail[1]))
            gap_start = min(cand.head[1], cand.tail[1])
            gaps.append((offset + gap_start, offset + gap_start + cand.gap))
        offset += length
    ranges = heads + tails + gaps
    xp = ops.xp
    index = xp.concatenate([xp.arange(start, end, dtype="int32") for start, end in ranges] or [xp.zeros(0, "int32")])
    return ops.asarray1i(index), ops.asarray1i([end - start for start, end in ranges])


def _categorical_keys(ops, candidates: List[List[Candidate]]):
    """Hashed keys for the head label, tail label and distance of each candidate, in three blocks."""
    flat = [cand for doc_candidates in candidates for cand in doc_candidates]
    keys = (
        [f"head={c.head_label}" for c in flat]
        + [f"tail={c.tail_label}" for c in flat]
        + [f"gap={'+' if c.head_first else '-'}{_distance_bucket(c.gap)}" for c in flat]
    )
    return ops.asarray([get_string_id(key) for key in keys], dtype="uint64")


def _categorical_keys_v2(ops, docs: List[Doc], candidates: List[List[Candidate]]):
    """v1's keys, then: same sentence or not, how many entities lie between the pair, and their labels."""
    same, counts, labels = [], [], []
    for doc, doc_candidates in zip(docs, candidates):
        starts = sorted((ent.start, ent.label_) for ent in doc.ents)
        sentence_of = sentence_index(doc)
        for cand in doc_candidates:
            low, high = min(cand.head[1], cand.tail[1]), max(cand.head[0], cand.tail[0])
            between = [label for start, label in starts if low <= start < high]
            same.append(f"same_sentence={sentence_of is None or sentence_of[cand.head[0]] == sentence_of[cand.tail[0]]}")
            counts.append(f"ents_between={min(len(between), 3)}")
            labels.append("labels_between=" + ",".join(sorted(set(between))))
    extra = ops.asarray([get_string_id(key) for key in same + counts + labels], dtype="uint64")
    return ops.xp.concatenate([_categorical_keys(ops, candidates), extra])


def _candidate_cues(docs: List[Doc], candidates: List[List[Candidate]], triggers: List[List[str]]) -> "numpy.ndarray":
    """(candidates, types): the strongest trigger cue among the tokens between the pair and CUE_WINDOW tokens around it."""
    rows = []
    for doc, doc_candidates in zip(docs, candidates):
        if not doc_candidates:
            continue
        cues = trigger_cues(doc, triggers)
        for cand in doc_candidates:
            first, second = sorted((cand.head, cand.tail))
            context = [*range(max(0, first[0] - CUE_WINDOW), first[0]), *range(first[1], second[0]), *range(second[1], min(len(doc), second[1] + CUE_WINDOW))]
            rows.append(cues[context].max(axis=0) if context else numpy.zeros(len(triggers), dtype="f"))
    return numpy.asarray(rows, dtype="f").reshape(-1, len(triggers))


def _distance_bucket(gap: int) -> int:
    # Exact for 0-3 tokens, then one bucket per power of two, capped at 32+.
    return gap if gap < 4 else min(gap.bit_length() + 1, 7)


def _split_blocks(stacked: Floats2d, n_blocks: int) -> list:
    """(k*n, w) stacked block by block -> k arrays of (n, w), to be laid side by side."""
    n = stacked.shape[0] // n_blocks
    return [stacked[i * n : (i + 1) * n] for i in range(n_blocks)]


def _stack_blocks(ops, side_by_side: Floats2d, n_blocks: int) -> Floats2d:
    """Inverse of _split_blocks + hstack: (n, k*w) -> (k*n, w)."""
    width = side_by_side.shape[1] // n_blocks
    blocks = [side_by_side[:, i * width : (i + 1) * width] for i in range(n_blocks)]
    return ops.xp.ascontiguousarray(ops.xp.vstack(blocks))


def trigger_cues(doc: Doc, triggers: List[List[str]]) -> "numpy.ndarray":
    """(tokens, types): 1.0 where a trigger word (or every word of a multi-word trigger) of the type stands, else 0.

    Words match by their lower-case form. Vector similarity would reach inflections and
    synonyms, but en_core_web_md prunes its vectors to 20,000 rows and gives "met",
    "phoned", "spoke" and "said" the same one (cosine 1.0), so similar vectors there do
    not mean similar words.
    """
    cues = numpy.zeros((len(doc), len(triggers)), dtype="f")
    lowers = [token.lower_ for token in doc]
    for column, words in enumerate(triggers):
        for trigger in words:
            parts = trigger.lower().split()
            for start in range(len(lowers) - len(parts) + 1):
                if lowers[start : start + len(parts)] == parts:
                    cues[start : start + len(parts), column] = 1.0
    return cues
