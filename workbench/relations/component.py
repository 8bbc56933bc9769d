"""The `relation_extractor` pipeline component: scores candidate entity pairs and writes doc._.relations.

Everything the component needs at load time (relation types, their signatures, per-type
thresholds) lives in `self.cfg`, which spaCy serialises with the model; labels.yml is
read, at most, once in `initialize`.
"""

# No `from __future__ import annotations`: confection validates the factory's
# arguments against its type hints, which must be real types, not strings.

from typing import Callable, Iterable, NamedTuple

import numpy
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate
from thinc.types import Floats2d

from workbench.docs import relation_spans  # importing workbench.docs registers doc._.relations
# Imported for its side effect: the default model config names this architecture.
from workbench.relations import model as _model  # noqa: F401
from workbench.relations.candidates import DEFAULT_MAX_DISTANCE, Candidate, generate_candidates, move_candidate, same_tokenization
from workbench.relations.scoring import score_relations
from workbench.labels import LabelScheme, load_labels
from workbench.relations.signatures import relation_key, scheme_from_docs

DEFAULT_MODEL = """
[model]
@architectures = "workbench.RelationModel.v2"
hidden_width = 64
feature_width = 16
dropout = 0.1

[model.tok2vec]
@architectures = "spacy.Tok2Vec.v2"

[model.tok2vec.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 64
attrs = ["NORM","PREFIX","SUFFIX","SHAPE"]
rows = [5000,1000,2500,2500]
include_static_vectors = false

[model.tok2vec.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 64
depth = 2
window_size = 1
maxout_pieces = 3
"""
DEFAULT_MODEL_CONFIG = Config().from_str(DEFAULT_MODEL)["model"]
EPSILON = 1e-7


class DocScores(NamedTuple):
    candidates: list[Candidate]
    probs: numpy.ndarray  # (n_candidates, n_types); 0 where a type's signature rules the pair out


def _char_position(span, label: str | None = None) -> tuple:
    """An argument as strict scoring sees it: (start_char, end_char, entity label)."""
    return (span.start_char, span.end_char, label or span.label_)


class ScaledRate:
    """An optimizer that steps every weight it is given at `scale` times the wrapped one's rate."""

    def __init__(self, optimizer: Optimizer, scale: float):
        self.optimizer = optimizer
        self.scale = scale

    def __call__(self, key, weights, gradient, *, lr_scale: float = 1.0):
        return self.optimizer(key, weights, gradient, lr_scale=lr_scale * self.scale)

    def __getattr__(self, name: str):
        if name == "optimizer":  # not set yet (a copy or an unpickled one): no endless lookup
            raise AttributeError(name)
        return getattr(self.optimizer, name)


class TrainingBatch(NamedTuple):
    docs: list[Doc]
    candidates: list[list[Candidate]]
    targets: numpy.ndarray
    mask: numpy.ndarray


@Language.factory(
    "relation_extractor",
    assigns=["doc._.relations"],
    requires=["doc.ents"],
    default_config={"model": DEFAULT_MODEL_CONFIG, "max_distance": DEFAULT_MAX_DISTANCE, "threshold": 0.5, "learn_rate_scale": 1.0},
    default_score_weights={"rel_micro_f": 1.0, "rel_micro_p": 0.0, "rel_micro_r": 0.0, "rel_per_type": None},
)
def make_relation_extractor(
    nlp: Language, name: str, model: Model, max_distance: int, threshold: float, learn_rate_scale: float = 1.0
):
    """max_distance: pairs in different sentences are candidates only this many tokens apart or closer.

    learn_rate_scale: the relation model's own weights step at this multiple of the training
    optimizer's rate. A transformer shares one optimizer with every component and wants a rate
    about ten times lower than a freshly initialised head learns well at.
    """
    if learn_rate_scale <= 0:
        raise ValueError(f"relation_extractor: learn_rate_scale must be positive, got {learn_rate_scale}")
    return RelationExtractor(
        nlp.vocab, model, name, max_distance=max_distance, threshold=threshold, learn_rate_scale=learn_rate_scale
    )


class RelationExtractor(TrainablePipe):
    """Multi-label classifier over candidate pairs of doc.ents; one sigmoid output per relation type."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "relation_extractor",
        *,
        max_distance: int = DEFAULT_MAX_DISTANCE,
        threshold: float = 0.5,
        learn_rate_scale: float = 1.0,
    ):
        self.vocab = vocab
        self.learn_rate_scale = learn_rate_scale
        self.model = model
        self.name = name
        self.max_distance = max_distance
        self.cfg = {"labels": [], "signatures": {}, "thresholds": {}, "default_threshold": threshold}

    # --- state kept in cfg ---------------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def scheme(self) -> LabelScheme:
        """The relation types with their signatures, rebuilt from cfg (so no labels.yml is needed at load time)."""
        return LabelScheme.from_signatures(self.cfg["signatures"], self.name)

    @property
    def thresholds(self) -> dict[str, float]:
        return {label: self.cfg["thresholds"].get(label, self.cfg["default_threshold"]) for label in self.labels}

    def set_threshold(self, label: str, value: float) -> None:
        if label not in self.labels:
            raise ValueError(f"unknown relation type {label!r}; known: {', '.join(self.labels)}")
        self.cfg["thresholds"][label] = float(value)

    # --- prediction ------------------------------------------------------------------------

    def predict(self, docs: Iterable[Doc]) -> list[DocScores]:
        docs = list(docs)
        scheme = self.scheme  # rebuilt from cfg on each access: once per batch, not per doc
        candidates = [generate_candidates(doc, scheme, self.max_distance) for doc in docs]
        flat = [cand for doc_candidates in candidates for cand in doc_candidates]
        if not flat:
            return [DocScores([], numpy.zeros((0, len(self.labels)), dtype="f")) for _ in docs]
        # Only docs with a candidate pair go through the encoder: the rest have nothing to score.
        scored = [i for i, doc_candidates in enumerate(candidates) if doc_candidates]
        logits = self.model.predict(([docs[i] for i in scored], [candidates[i] for i in scored]))
        probs = self.model.ops.to_numpy(self.model.ops.sigmoid(logits)) * self._mask(flat)
        bounds = numpy.cumsum([len(c) for c in candidates])[:-1]
        return [DocScores(c, p) for c, p in zip(candidates, numpy.split(probs, bounds))]

    def set_annotations(self, docs: Iterable[Doc], scores: list[DocScores]) -> None:
        cutoffs = [self.thresholds[label] for label in self.labels]
        for doc, (candidates, probs) in zip(docs, scores):
            relations = []
            for row, cand in enumerate(candidates):
                for col, label in enumerate(self.labels):
                    if probs[row, col] >= cutoffs[col] and probs[row, col] > 0:
                        score = float(probs[row, col])
                        relations.append({"head": list(cand.head), "tail": list(cand.tail), "label": label, "score": score})
            doc._.relations = sorted(relations, key=lambda r: (r["head"], r["tail"], r["label"]))

    def _mask(self, candidates: list[Candidate]) -> numpy.ndarray:
        """1 where the candidate's signature allows the type: the model never predicts, nor learns, the rest."""
        mask = numpy.zeros((len(candidates), len(self.labels)), dtype="f")
        column = {label: i for i, label in enumerate(self.labels)}
        for row, cand in enumerate(candidates):
            for label in cand.allowed:
                mask[row, column[label]] = 1.0
        return mask

    # --- training --------------------------------------------------------------------------

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optimizer | None = None,
        losses: dict[str, float] | None = None,
    ) -> dict[str, float]:
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "RelationExtractor.update")
        batch = self._training_batch(examples)
        if not len(batch.targets):
            return losses
        set_dropout_rate(self.model, drop)
        logits, backprop = self.model.begin_update((batch.docs, batch.candidates))
        loss, d_logits = self._binary_cross_entropy(logits, batch.targets, batch.mask)
        backprop(d_logits)
        if sgd not in (None, False):
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        # Only this model's own weights are scaled: a listened-to transformer steps in its own
        # component's finish_update, at the optimizer's rate.
        self.model.finish_update(sgd if self.learn_rate_scale == 1.0 else ScaledRate(sgd, self.learn_rate_scale))

    def get_loss(self, examples: Iterable[Example], scores: Floats2d) -> tuple[float, Floats2d]:
        """Loss and gradient for logits computed on `_training_batch(examples)` candidates."""
        batch = self._training_batch(list(examples))
        return self._binary_cross_entropy(scores, batch.targets, batch.mask)

    def _binary_cross_entropy(self, logits: Floats2d, targets: numpy.ndarray, mask: numpy.ndarray):
        ops = self.model.ops
        probs = ops.to_numpy(ops.sigmoid(logits))
        clipped = numpy.clip(probs, EPSILON, 1 - EPSILON)
        n_rows = max(1, len(targets))
        loss = -(mask * (targets * numpy.log(clipped) + (1 - targets) * numpy.log(1 - clipped))).sum() / n_rows
        d_logits = (probs - targets) * mask / n_rows
        return float(loss), ops.asarray2f(d_logits)

    def _training_batch(self, examples: list[Example]) -> TrainingBatch:
        """Candidates of the gold entities (moved onto the predicted doc's tokens) and of the predicted doc's own entities.

        The predicted doc carries gold entities (workbench.gold_entities.v1) or a NER's
        (workbench.ner_entities.v1); a candidate is positive for a type when gold has that
        relation between the same character spans with the same labels, as strict scoring counts it.
        """
        scheme = self.scheme
        docs, candidates, targets = [], [], []
        for eg in examples:
            gold = {relation_key(scheme, _char_position(head), _char_position(tail), label) for head, tail, label, _ in relation_spans(eg.reference)}
            doc_candidates = self._gold_and_predicted_candidates(eg, scheme)
            for cand in doc_candidates:
                head, tail = eg.predicted[cand.head[0] : cand.head[1]], eg.predicted[cand.tail[0] : cand.tail[1]]
                first, second = _char_position(head, cand.head_label), _char_position(tail, cand.tail_label)
                keys = (relation_key(scheme, first, second, label) for label in self.labels)
                targets.append([float(key in gold) for key in keys])
            docs.append(eg.predicted)
            candidates.append(doc_candidates)
        flat = [cand for doc_candidates in candidates for cand in doc_candidates]
        target_array = numpy.asarray(targets, dtype="f").reshape((-1, len(self.labels)))
        return TrainingBatch(docs, candidates, target_array, self._mask(flat))

    def _gold_and_predicted_candidates(self, eg: Example, scheme: LabelScheme) -> list[Candidate]:
        same_tokens = same_tokenization(eg.reference, eg.predicted)
        chosen: dict[tuple, Candidate] = {}
        for cand in generate_candidates(eg.reference, scheme, self.max_distance):
            moved = cand if same_tokens else move_candidate(cand, eg.reference, eg.predicted)
            if moved is not None:
                chosen[(moved.head, moved.tail, moved.head_label, moved.tail_label)] = moved
        for cand in generate_candidates(eg.predicted, scheme, self.max_distance):
            chosen.setdefault((cand.head, cand.tail, cand.head_label, cand.tail_label), cand)
        return list(chosen.values())

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Language | None = None,
        labels_path: str | None = None,
        signatures: dict | None = None,
    ) -> None:
        """Fix the relation types and signatures (a dict, else a labels.yml, else learned from gold), then the model."""
        validate_get_examples(get_examples, "RelationExtractor.initialize")
        examples = list(get_examples())
        chosen = self._choose_scheme(examples, labels_path, signatures)
        if not chosen.relations:
            raise ValueError(f"[{self.name}] no relation types: give signatures or labels_path, or data with relations")
        self.cfg["signatures"] = chosen.signatures()
        self.cfg["labels"] = chosen.relation_types
        self.cfg["thresholds"] = {k: v for k, v in self.cfg["thresholds"].items() if k in chosen.relations}
        groups = self._set_groups(chosen)
        self._set_output_width(len(chosen.relations) + len(groups))
        self._set_triggers(chosen, groups)
        sample = self._training_batch(examples[:10])
        self.model.initialize(X=(sample.docs, sample.candidates))

    def _set_groups(self, scheme: LabelScheme) -> dict[str, list[str]]:
        """Give a model with shared outputs (v3) the groups' output columns; other models share none."""
        layers = [node for node in self.model.walk() if "groups" in node.attrs]
        groups = scheme.groups if layers else {}
        column = {label: i for i, label in enumerate(self.labels)}
        for node in layers:
            node.attrs["groups"] = [(len(self.labels) + i, [column[m] for m in members]) for i, members in enumerate(groups.values())]
        return groups

    def _set_triggers(self, scheme: LabelScheme, groups: dict[str, list[str]]) -> None:
        """Give the model each output's trigger words: each type's, then each group's (its members' together); models without cue features ignore them."""
        triggers = [list(scheme.relations[label].triggers) for label in self.labels]
        triggers += [[word for member in members for word in scheme.relations[member].triggers] for members in groups.values()]
        for node in self.model.walk():
            if "triggers" in node.attrs:
                node.attrs["triggers"] = triggers

    @staticmethod
    def _choose_scheme(examples: list[Example], labels_path: str | None, signatures: dict | None) -> LabelScheme:
        if signatures:
            return LabelScheme.from_signatures(signatures)
        if labels_path:
            return load_labels(labels_path)
        return scheme_from_docs(eg.reference for eg in examples)

    def _set_output_width(self, n_labels: int) -> None:
        output = self.model.get_ref("output_layer")
        if output.has_dim("nO") is None:
            output.set_dim("nO", n_labels)
        elif output.get_dim("nO") != n_labels:
            width = output.get_dim("nO")
            raise ValueError(f"[{self.name}] the model has {width} outputs but there are {n_labels} relation types")

    # --- evaluation ------------------------------------------------------------------------

    def score(self, examples: Iterable[Example], **kwargs) -> dict:
        examples = list(examples)
        validate_examples(examples, "RelationExtractor.score")
        return score_relations(examples, self.scheme)
