"""Relation extraction: the trainable `relation_extractor` spaCy component and its helpers.

Modules: signatures (signatures learned from gold, relation keys), candidates (which entity pairs to
score), reach (the share of gold relations the candidates can reach), model (the thinc
architectures), component (the pipeline component), scoring (strict P/R/F), thresholds
(per-type threshold tuning), augment (gold or a NER's entities on predicted docs for
training), base_encoder (starting the component's tok2vec from a base model's).
"""

from workbench.relations.component import RelationExtractor, make_relation_extractor
from workbench.relations.thresholds import tune_thresholds

__all__ = ["RelationExtractor", "make_relation_extractor", "tune_thresholds"]
