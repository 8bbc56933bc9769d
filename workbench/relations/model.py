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

v3 is for types with few examples. Types that share a `group` in the label config
(MET and SPOKE_WITH: both a contact between two people) share one output that
learns from all their examples whether the pair is in that relation at all, and a
softmax over the members says which, with each member's triggers as cues:
p(MET) = p(contact) * p(MET | contact). Trigger words match in their inflected forms
("calls", "meetings", "speaking"), and the words around a pair are counted outside
entity spans, so a trigger before a title ("a meeting between Turkish Foreign
Minister Hakan Fidan and ...") still counts. A feature says whether only a list
separator ("," or "and") stands between the two, as between counterparts named in one
list ("spoke with A, B and C"), who are not in contact with each other.
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
# v1: head label, tail label, distance; v2 adds same sentence, entities between, their labels;
# v3 what stands between them outside entities (nothing, a list separator, other words) and
# whether they share a name word (two mentions of one person).
N_CATEGORICAL = {1: 3, 2: 6, 3: 8}
LIST_SEPARATORS = frozenset({",", "and", "&", ";"})
TRIGGER_PRIOR = 2.0  # the logit a trigger word adds to its type before training
CUE_WINDOW = 3  # tokens before the first and after the second argument where trigger words count
EPS = 1e-6  # a grouped member's probability is kept within (EPS, 1 - EPS), so its logit stays finite


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


@registry.architectures("workbench.RelationModel.v3")
def build_relation_model_v3(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    feature_width: int = 16,
    dropout: float = 0.1,
    nO: int | None = None,
) -> Model[RelationInput, Floats2d]:
    """v2 plus shared outputs for grouped types, inflected triggers, an entity-skipping cue window and a list feature."""
    return _relation_model(candidate_features(tok2vec, feature_width, version=3), tok2vec, hidden_width, dropout, nO)


def _relation_model(features: Model, tok2vec: Model, hidden_width: int, dropout: float, nO: int | None) -> Model:
    output_layer = Linear(nO=nO)
    scorer = chain(Relu(nO=hidden_width, dropout=dropout, normalize=True), output_layer)
    version = features.attrs.get("version", 1)
    if version >= 3:
        model = chain(with_trigger_prior(features, scorer, output_layer), grouped_logits())
    elif version == 2:
        model = with_trigger_prior(features, scorer, output_layer)
    else:
        model = chain(features, scorer)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    if version >= 2:
        model.set_ref("features", features)  # where the component sets and reads the trigger words
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


def grouped_logits() -> Model[Floats2d, Floats2d]:
    """Raw outputs (types, then one column per group) -> one logit per type (v3).

    attrs["groups"]: [(group column, [member columns])], set by the component from its
    label scheme; with none, the raw outputs are the logits. A member's probability is
    sigmoid(group) * softmax(members)[member]; its logit is returned, so the component's
    sigmoid and binary cross-entropy stay as they are and train both parts: the group
    output on every example of any member, the softmax on which member it was.
    """
    return Model("grouped_logits", _grouped_forward, attrs={"groups": []})


def _grouped_forward(model: Model, raw: Floats2d, is_train: bool) -> Tuple[Floats2d, Callable]:
    groups = model.attrs["groups"]
    if not groups:
        return raw, lambda d_logits: d_logits
    xp = model.ops.xp
    n_types = raw.shape[1] - len(groups)
    logits = raw[:, :n_types].copy()
    parts = []
    for group_column, members in groups:
        group_prob = model.ops.sigmoid(raw[:, group_column])
        scores = raw[:, members]
        shares = xp.exp(scores - scores.max(axis=1, keepdims=True))
        shares /= shares.sum(axis=1, keepdims=True)
        probs = xp.clip(group_prob[:, None] * shares, EPS, 1 - EPS)
        logits[:, members] = xp.log(probs) - xp.log1p(-probs)
        parts.append((group_column, members, group_prob, shares, probs))

    def backprop(d_logits: Floats2d) -> Floats2d:
        d_raw = xp.zeros_like(raw)
        d_raw[:, :n_types] = d_logits
        for group_column, members, group_prob, shares, probs in parts:
            # d logit_i / d group = (1 - sigmoid(group)) / (1 - p_i); d logit_i / d member_j = (delta_ij - share_j) / (1 - p_i)
            scaled = d_logits[:, members] / (1 - probs)
            total = scaled.sum(axis=1, keepdims=True)
            d_raw[:, group_column] = total[:, 0] * (1 - group_prob)
            d_raw[:, members] = scaled - shares * total
        return d_raw

    return logits, backprop


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
    keys = {1: _categorical_keys, 2: _categorical_keys_v2, 3: _categorical_keys_v3}[version](ops, docs, candidates)
    embedded, backprop_embed = model.get_ref("embed")(keys, is_train)
    blocks = _split_blocks(pooled, N_POOLED) + _split_blocks(embedded, n_categorical)
    if _n_cues(model):
        cue_rows = _candidate_cues_v3 if version >= 3 else _candidate_cues
        blocks.append(ops.asarray2f(cue_rows(docs, candidates, model.attrs["triggers"])))
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


def _categorical_keys(ops, docs: List[Doc], candidates: List[List[Candidate]]):
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
    return ops.xp.concatenate([_categorical_keys(ops, docs, candidates), extra])


def _categorical_keys_v3(ops, docs: List[Doc], candidates: List[List[Candidate]]):
    """v2's keys, then pair_structure's two."""
    between, shared = [], []
    for doc, doc_candidates in zip(docs, candidates):
        outside = _outside_entities(doc)
        for cand in doc_candidates:
            kind, same_name = pair_structure(doc, outside, cand)
            between.append(f"between={kind}")
            shared.append(f"shared_name={same_name}")
    extra = ops.asarray([get_string_id(key) for key in between + shared], dtype="uint64")
    return ops.xp.concatenate([_categorical_keys_v2(ops, docs, candidates), extra])


def pair_structure(doc: Doc, outside: "numpy.ndarray", cand: Candidate) -> Tuple[str, bool]:
    """What stands between the pair outside entity spans ("nothing", "list": only list separators, or "words"),
    and whether the two share a capitalised word ("Donald Trump" and "Trump": one person, no contact)."""
    low, high = min(cand.head[1], cand.tail[1]), max(cand.head[0], cand.tail[0])
    words = {doc[i].lower_ for i in range(low, high) if outside[i]}
    kind = "nothing" if not words else "list" if words <= LIST_SEPARATORS else "words"
    names = [{t.lower_ for t in doc[start:end] if t.is_title} for start, end in (cand.head, cand.tail)]
    return kind, bool(names[0] & names[1])


def _outside_entities(doc: Doc) -> "numpy.ndarray":
    outside = numpy.ones(len(doc), dtype=bool)
    for ent in doc.ents:
        outside[ent.start : ent.end] = False
    return outside


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


def _candidate_cues_v3(docs: List[Doc], candidates: List[List[Candidate]], triggers: List[List[str]]) -> "numpy.ndarray":
    """As _candidate_cues, with inflected trigger forms and CUE_WINDOW words on each side counted outside entity spans."""
    rows = []
    for doc, doc_candidates in zip(docs, candidates):
        if not doc_candidates:
            continue
        cues = trigger_cues(doc, triggers, inflected=True)
        outside = numpy.flatnonzero(_outside_entities(doc))
        for cand in doc_candidates:
            first, second = sorted((cand.head, cand.tail))
            before = outside[outside < first[0]][-CUE_WINDOW:]
            after = outside[outside >= second[1]][:CUE_WINDOW]
            context = [*before, *range(first[1], second[0]), *after]
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


def word_forms(word: str) -> set[str]:
    """A trigger word and its regular inflections: call -> calls, called, calling; meet -> meets, meeting; phone -> phoned, phoning."""
    stem = word[:-1] if word.endswith("e") else word
    return {word, word + "s", word + "es", stem + "ed", stem + "ing", word + "d" if word.endswith("e") else word + "ed"}


def trigger_cues(doc: Doc, triggers: List[List[str]], inflected: bool = False) -> "numpy.ndarray":
    """(tokens, types): 1.0 where a trigger word (or every word of a multi-word trigger) of the type stands, else 0.

    Words match by their lower-case form; with `inflected`, the last word of a trigger also in
    its regular inflections (word_forms). Vector similarity would reach inflections and
    synonyms, but en_core_web_md prunes its vectors to 20,000 rows and gives "met",
    "phoned", "spoke" and "said" the same one (cosine 1.0), so similar vectors there do
    not mean similar words.
    """
    cues = numpy.zeros((len(doc), len(triggers)), dtype="f")
    lowers = [token.lower_ for token in doc]
    for column, words in enumerate(triggers):
        for trigger in words:
            parts = trigger.lower().split()
            last = word_forms(parts[-1]) if inflected else {parts[-1]}
            for start in range(len(lowers) - len(parts) + 1):
                if lowers[start : start + len(parts) - 1] == parts[:-1] and lowers[start + len(parts) - 1] in last:
                    cues[start : start + len(parts), column] = 1.0
    return cues
