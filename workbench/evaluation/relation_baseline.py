"""A simple relation baseline: one logistic regression per relation type over the candidate pairs.

Candidates come from the relation component's own generator (same signatures, same window),
so the baseline and the model choose among the same pairs. Features: the argument labels,
their order, the token distance, whether they share a sentence, and the words between them.
"""

from __future__ import annotations

import math

import numpy
from spacy.tokens import Doc

from workbench.docs import get_relations
from workbench.relations.candidates import DEFAULT_MAX_DISTANCE, Candidate, generate_candidates, sentence_index
from workbench.labels import LabelScheme
from workbench.relations.signatures import relation_key

DISTANCE_BUCKETS = (0, 1, 3, 6, 10)


def _distance_bucket(gap: int) -> str:
    floor = max(b for b in DISTANCE_BUCKETS if b <= gap)
    return f"{floor}+" if floor == DISTANCE_BUCKETS[-1] else str(floor)


def pair_features(doc: Doc, cand: Candidate, sentences: list[int] | None) -> dict:
    first_end, second_start = min(cand.head[1], cand.tail[1]), max(cand.head[0], cand.tail[0])
    features = {
        f"head={cand.head_label}": 1.0,
        f"tail={cand.tail_label}": 1.0,
        f"pair={cand.head_label}>{cand.tail_label}": 1.0,
        "head_first": float(cand.head_first),
        f"distance={_distance_bucket(cand.gap)}": 1.0,
        "log_distance": math.log1p(cand.gap),
        "same_sentence": float(sentences is not None and sentences[cand.head[0]] == sentences[cand.tail[0]]),
    }
    for token in doc[first_end:second_start]:
        features[f"between={token.lower_}"] = 1.0
    return features


class RelationBaseline:
    """Fit on docs with gold entities and doc._.relations; annotate docs that have entities."""

    def __init__(self, scheme: LabelScheme, max_distance: int = DEFAULT_MAX_DISTANCE, seed: int = 0, threshold: float = 0.5):
        self.scheme = scheme
        self.max_distance = max_distance
        self.seed = seed
        self.threshold = threshold
        self.vectorizer = None
        # Per type: a fitted classifier, or a constant probability when training saw one class only.
        self.models: dict[str, object] = {}

    def _candidates(self, doc: Doc) -> tuple[list[Candidate], list[dict]]:
        candidates = generate_candidates(doc, self.scheme, self.max_distance)
        sentences = sentence_index(doc)
        return candidates, [pair_features(doc, cand, sentences) for cand in candidates]

    def fit(self, docs: list[Doc]) -> "RelationBaseline":
        # Imported here: scikit-learn takes a second or two to import, and only a fit needs it.
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        rows, answers = [], []
        for doc in docs:
            gold = {relation_key(self.scheme, r["head"], r["tail"], r["label"]) for r in get_relations(doc)}
            candidates, features = self._candidates(doc)
            rows += features
            answers += [(cand, {label for label in cand.allowed if (cand.head, cand.tail, label) in gold}) for cand in candidates]
        self.vectorizer = DictVectorizer(sort=True).fit(rows or [{}])
        matrix = self.vectorizer.transform(rows) if rows else None
        for label in self.scheme.relations:
            index = [i for i, (cand, _) in enumerate(answers) if label in cand.allowed]
            y = numpy.array([label in answers[i][1] for i in index], dtype=int)
            if len(set(y.tolist())) < 2:
                self.models[label] = float(y.mean()) if len(y) else 0.0
            else:
                model = LogisticRegression(max_iter=1000, random_state=self.seed)
                self.models[label] = model.fit(matrix[index], y)
        return self

    def annotate(self, doc: Doc) -> Doc:
        """Set doc._.relations from doc.ents, as the relation component does."""
        candidates, features = self._candidates(doc)
        relations = []
        if candidates:
            matrix = self.vectorizer.transform(features)
            for label, model in self.models.items():
                index = [i for i, cand in enumerate(candidates) if label in cand.allowed]
                if not index:
                    continue
                probs = [model] * len(index) if isinstance(model, float) else model.predict_proba(matrix[index])[:, 1]
                for i, prob in zip(index, probs):
                    if prob >= self.threshold and prob > 0:
                        cand = candidates[i]
                        relations.append({"head": list(cand.head), "tail": list(cand.tail), "label": label, "score": float(prob)})
        doc._.relations = sorted(relations, key=lambda r: (r["head"], r["tail"], r["label"]))
        return doc
