"""Relation extraction: the trainable `relation_extractor` spaCy component and its helpers.

Modules: signatures (signatures learned from gold, relation keys), candidates (which entity pairs to
score), model (the thinc architecture), component (the pipeline component), scoring
(strict P/R/F), thresholds (per-type threshold tuning), augment (gold entities on
predicted docs for training-time evaluation).
"""

from workbench.relations.component import RelationExtractor, make_relation_extractor
from workbench.relations.thresholds import tune_thresholds

__all__ = ["RelationExtractor", "make_relation_extractor", "tune_thresholds"]
