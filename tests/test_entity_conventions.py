"""The guideline's span conventions after the NER: possessives out, honorifics in, a surname is the person named in full."""

from __future__ import annotations

import spacy
from doc_helpers import doc_with_entities

TEXT = "Sheikh Mohammed Al Thani met Donald Trump's envoy . Abbas Araghchi called ; Araghchi and Thani praised the Trump-Putin talks ."


def doc_with(nlp, ents: list[tuple[str, str, int]]):
    """ents: (surface, label, which occurrence from 0), as a NER might have put them."""
    return doc_with_entities(nlp, TEXT, ents)


def test_conventions_fix_what_a_ner_from_few_articles_gets_wrong():
    nlp = spacy.blank("en")
    component = nlp.add_pipe("entity_conventions", config={"honorifics": ["Sheikh", "Sayyid"]})
    doc = doc_with(nlp, [
        ("Sheikh", "ROLE", 0),                  # the honorific alone, as a title
        ("Mohammed Al Thani", "PERSON", 0),
        ("Donald Trump's", "PERSON", 0),        # the possessive inside
        ("Abbas Araghchi", "PERSON", 0),
        ("Araghchi", "GPE", 1),                 # the surname as a place
        ("Thani", "ORG", 1),                    # the last word of "Mohammed Al Thani"
    ])
    ents = [(e.text, e.label_) for e in component(doc).ents]
    assert ents == [
        ("Sheikh Mohammed Al Thani", "PERSON"),  # the honorific joins the name; the ROLE is gone
        ("Donald Trump", "PERSON"),              # "'s" trimmed
        ("Abbas Araghchi", "PERSON"),
        ("Araghchi", "PERSON"),                  # relabelled
        ("Thani", "PERSON"),
        ("Trump", "PERSON"),                     # left out by the NER, now found ("Trump-Putin": Putin was never named in full)
    ]


def test_without_honorifics_or_a_full_name_nothing_moves_but_the_possessive():
    nlp = spacy.blank("en")
    component = nlp.add_pipe("entity_conventions", config={"person_label": "Peop"})
    doc = doc_with(nlp, [("Sheikh", "ROLE", 0), ("Mohammed Al Thani", "PERSON", 0), ("Donald Trump's", "PERSON", 0), ("Araghchi", "GPE", 1)])
    # person_label Peop: no span of it, so no surname and no honorific; only the possessive rule applies.
    assert [(e.text, e.label_) for e in component(doc).ents] == [
        ("Sheikh", "ROLE"), ("Mohammed Al Thani", "PERSON"), ("Donald Trump", "PERSON"), ("Araghchi", "GPE"),
    ]
