"""The relation model architecture: token vectors -> one feature row per candidate pair -> MLP -> logits per type.

Per candidate: mean-pooled vectors of the head span, the tail span and the tokens
between them (zeros when adjacent), plus hashed embeddings of the head label, the
tail label and the signed, bucketed distance. The model returns logits; the component
applies the sigmoid, so the binary cross-entropy gradient is exactly (p - y) and does
not vanish when an output saturates.
"""

# No `from __future__ import annotations`: confection validates the architecture's
# arguments against these type hints, which must be real types, not strings.

from typing import Callable, List, Tuple

from spacy.strings import get_string_id
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import HashEmbed, Linear, Model, Relu, chain
from thinc.types import Floats2d, Ints1d

from workbench.relations.candidates import Candidate

RelationInput = Tuple[List[Doc], List[List[Candidate]]]
N_POOLED = 3  # head, tail, between
N_CATEGORICAL = 3  # head label, tail label, distance


@registry.architectures("workbench.RelationModel.v1")
def build_relation_model(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    feature_width: int = 16,
    dropout: float = 0.1,
    nO: int | None = None,
) -> Model[RelationInput, Floats2d]:
    """Logits (n_candidates, n_types) for the candidates of a batch of docs; nO is set from the labels at initialize."""
    output_layer = Linear(nO=nO)
    model = chain(
        candidate_features(tok2vec, feature_width),
        Relu(nO=hidden_width, dropout=dropout, normalize=True),
        output_layer,
    )
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    return model


def candidate_features(tok2vec: Model, feature_width: int) -> Model[RelationInput, Floats2d]:
    # Hashing the label and distance strings needs no label inventory, so nothing about
    # entity labels has to be known (or serialised) before training starts.
    embed = HashEmbed(nO=feature_width, nV=512, seed=17)
    return Model(
        "candidate_features",
        _features_forward,
        init=_features_init,
        layers=[tok2vec, embed],
        refs={"tok2vec": tok2vec, "embed": embed},
        dims={"nO": None},
    )


def _features_init(model: Model, X: RelationInput | None = None, Y=None) -> None:
    tok2vec, embed = model.get_ref("tok2vec"), model.get_ref("embed")
    tok2vec.initialize(X=X[0] if X is not None else None)
    embed.initialize()
    model.set_dim("nO", N_POOLED * tok2vec.get_dim("nO") + N_CATEGORICAL * embed.get_dim("nO"))


def _features_forward(model: Model, inputs: RelationInput, is_train: bool) -> Tuple[Floats2d, Callable]:
    docs, candidates = inputs
    ops = model.ops
    tokvecs, backprop_tokvecs = model.get_ref("tok2vec")(docs, is_train)
    doc_lengths = ops.asarray1i([len(doc) for doc in docs])
    flat = ops.flatten(tokvecs) if docs else ops.alloc2f(0, model.get_ref("tok2vec").get_dim("nO"))
    index, span_lengths = _span_rows(ops, candidates, [len(doc) for doc in docs])
    pooled = ops.reduce_mean(flat[index], span_lengths)
    embedded, backprop_embed = model.get_ref("embed")(_categorical_keys(ops, candidates), is_train)
    output = ops.xp.hstack(_split_blocks(pooled, N_POOLED) + _split_blocks(embedded, N_CATEGORICAL))
    width = flat.shape[1]

    def backprop(d_output: Floats2d) -> RelationInput:
        pooled_part = N_POOLED * width
        d_pooled = _stack_blocks(ops, d_output[:, :pooled_part], N_POOLED)
        d_flat = ops.alloc2f(*flat.shape)
        ops.scatter_add(d_flat, index, ops.backprop_reduce_mean(d_pooled, span_lengths))
        backprop_embed(_stack_blocks(ops, d_output[:, pooled_part:], N_CATEGORICAL))
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
