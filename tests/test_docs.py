"""Records <-> spaCy Docs: offsets survive the round trip, relations survive DocBin."""

from __future__ import annotations

import spacy
from spacy.tokens import DocBin

from workbench.docs import doc_to_record, record_to_doc, relation_spans


def entity_tuples(record):
    return sorted((e.start, e.end, e.label) for e in record.entities)


def relation_tuples(record):
    by_id = record.entity_by_id()
    return sorted(
        ((by_id[r.head].start, by_id[r.head].end), (by_id[r.tail].start, by_id[r.tail].end), r.type) for r in record.relations
    )


def test_offsets_to_doc_to_offsets_round_trip(gold_records):
    nlp = spacy.blank("en")
    for record in gold_records:
        back = doc_to_record(record_to_doc(nlp.make_doc, record), record.doc_id)
        assert back.text == record.text
        assert entity_tuples(back) == entity_tuples(record)
        assert relation_tuples(back) == relation_tuples(record)


def test_relations_survive_docbin(gold_records):
    nlp = spacy.blank("en")
    docs = [record_to_doc(nlp.make_doc, r) for r in gold_records]
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    restored = list(DocBin().from_bytes(data).get_docs(spacy.blank("en").vocab))
    for record, doc in zip(gold_records, restored):
        assert doc._.doc_id == record.doc_id
        assert relation_tuples(doc_to_record(doc)) == relation_tuples(record)
    head, tail, label, _ = next(relation_spans(restored[0]))
    assert head.label_ == "PERSON" and label in {"HAS_ROLE", "AFFILIATION", "MET", "SPOKE_WITH"} and tail.label_


def test_gold_entity_docs_keep_the_gold_entities_through_rulers_and_sentences(gold_records):
    # A span ruler that writes doc.ents declares only doc.spans in its meta; an entity ruler
    # declares doc.ents. Neither may replace the gold entities the relation model is scored on.
    from workbench.docs import gold_entity_docs

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("span_ruler", config={"annotate_ents": True, "overwrite": True}).add_patterns([{"label": "ORG", "pattern": "the"}])
    nlp.add_pipe("entity_ruler", config={"overwrite_ents": True}).add_patterns([{"label": "DATE", "pattern": "a"}])
    docs = gold_entity_docs(nlp, gold_records)
    for doc, record in zip(docs, gold_records):
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [(e.start, e.end, e.label) for e in record.entities]
        assert doc.has_annotation("SENT_START")  # the sentencizer did run
