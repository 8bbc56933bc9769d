"""The `entity_conventions` pipeline component: the guideline's span conventions that a NER from few articles misses.

A NER labels every mention on its own, and a base model trained on OntoNotes brings
OntoNotes' conventions. After the NER, this component applies three of the guideline's:

- the possessive "'s" is outside a span (`trim_possessive`): "Donald Trump's" -> "Donald Trump";
- name-honorifics are inside a person's name (`honorifics`, for spans of `person_label`):
  "Sheikh" + "Mohammed bin Abdulrahman Al Thani" is one PERSON, taking the honorific from an
  entity the NER made of it alone;
- a person named in full once is the same person by surname after ("Abbas Araghchi ...
  Araghchi"): every single-token mention of a surname (the last word of a multi-word span
  of `person_label` in the same document) gets that label, whether the NER labelled it
  otherwise ("Araghchi" as a place) or left it out ("the Trump-Putin meeting").
"""

# No `from __future__ import annotations`: spaCy validates the factory's arguments against
# its type hints, which must be real types.

from spacy.language import Language
from spacy.tokens import Doc, Span


POSSESSIVES = frozenset({"'s", "’s"})


@Language.factory(
    "entity_conventions",
    assigns=["doc.ents"],
    requires=["doc.ents"],
    default_config={"person_label": "PERSON", "honorifics": [], "trim_possessive": True},
)
def make_entity_conventions(nlp: Language, name: str, person_label: str, honorifics: list[str], trim_possessive: bool):
    return EntityConventions(name, person_label, honorifics, trim_possessive)


class EntityConventions:
    def __init__(self, name: str, person_label: str, honorifics: list[str], trim_possessive: bool):
        self.name = name
        self.label = person_label
        self.honorifics = {word.lower() for word in honorifics}
        self.trim_possessive = trim_possessive

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        if self.trim_possessive:
            ents = [_without_possessive(ent) for ent in ents]
            ents = [ent for ent in ents if len(ent)]
        if self.honorifics:
            ents = self._with_honorifics(doc, ents)
        doc.ents = self._with_surnames(doc, ents)
        return doc

    def _with_honorifics(self, doc: Doc, ents: list[Span]) -> list[Span]:
        """A span of the label takes the honorific just before it, unless that word ends a longer entity."""
        owner = {i: ent for ent in ents for i in range(ent.start, ent.end)}
        dropped, extended = set(), {}
        for ent in ents:
            before = ent.start - 1
            if ent.label_ != self.label or before < 0 or doc[before].lower_ not in self.honorifics:
                continue
            other = owner.get(before)
            if other is None or len(other) == 1:
                if other is not None:
                    dropped.add((other.start, other.end))
                extended[(ent.start, ent.end)] = Span(doc, before, ent.end, label=self.label)
        return [extended.get((e.start, e.end), e) for e in ents if (e.start, e.end) not in dropped]

    def _with_surnames(self, doc: Doc, ents: list[Span]) -> list[Span]:
        surnames = {ent[-1].text for ent in ents if ent.label_ == self.label and len(ent) > 1 and ent[-1].is_title}
        if not surnames:
            return ents
        result, covered = [], set()
        for ent in ents:
            if len(ent) == 1 and ent.text in surnames and ent.label_ != self.label:
                ent = Span(doc, ent.start, ent.end, label=self.label)
            result.append(ent)
            covered.update(range(ent.start, ent.end))
        result += [Span(doc, t.i, t.i + 1, label=self.label) for t in doc if t.i not in covered and t.text in surnames]
        return sorted(result, key=lambda span: span.start)

    # Nothing to train, save or load: the settings are the config's.
    def to_disk(self, path, *, exclude=tuple()) -> None:
        pass

    def from_disk(self, path, *, exclude=tuple()) -> "EntityConventions":
        return self


def _without_possessive(ent: Span) -> Span:
    if len(ent) > 1 and ent[-1].lower_ in POSSESSIVES:
        return Span(ent.doc, ent.start, ent.end - 1, label=ent.label_)
    return ent
