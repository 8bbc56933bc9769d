"""Send adjudication conflicts to a Doccano review project, every annotator's version shown as pre-annotations.

The review project allows overlapping spans, because two annotators' versions of
one mention ("Hakan Fidan" against "Fidan") are shown together. The account that
pushes owns the pre-annotations (Doccano shows each user only their own), so it
reviews, or hands the documents to an adjudicator with `workbench doccano annotator
add NAME --project REVIEW_PROJECT`. Who said what is in each example's metadata
(`review_notes`). A later `workbench doccano pull --project REVIEW_PROJECT` brings the
confirmed resolutions back for `annotations adjudicate --resolved`.
"""

from __future__ import annotations

from typing import Sequence

from workbench.corpus.ingest import text_sha256
from workbench.doccano.client import DoccanoSession
from workbench.doccano.push import Article, PushResult, push, records_predictor
from workbench.labels import LabelScheme
from workbench.records import AnnotatedDoc

# Unlike the annotation project's: a reviewer must tell the two apart in the project list.
REVIEW_DESCRIPTION = (
    "Review (adjudication): resolve the conflicts between annotators. Every annotator's version is shown at once; "
    "keep what the guideline calls right, delete the rest, then confirm the document. The guideline, with the review "
    "steps first, is behind the book icon in the toolbar."
)
REVIEW_GUIDE = """# Review: resolve the annotators' conflicts

Each document here has spans or relations the annotators did not agree on. All
their versions are shown at once; the metadata `review_notes` says who marked
what. Keep what the guidelines below call right, delete the rest, add what
everybody missed, then confirm the document. Only confirmed documents are taken
back into gold.

"""


def review_articles(records: Sequence[AnnotatedDoc]) -> list[Article]:
    """The review records as articles to upload, their conflict notes as readable metadata."""
    return [
        (
            record.doc_id,
            record.text,
            {
                "split": record.meta.get("split"),
                "sha256": text_sha256(record.text),
                "review_notes": "\n".join(record.meta.get("review_notes") or []),
            },
        )
        for record in records
    ]


def push_review(
    session: DoccanoSession,
    project: str,
    guideline: str,
    scheme: LabelScheme,
    records: Sequence[AnnotatedDoc],
    batch_size: int = 200,
) -> PushResult:
    """Create or reuse the review project and upload the documents it lacks, with every version pre-annotated."""
    return push(
        session,
        project,
        REVIEW_DESCRIPTION,
        REVIEW_GUIDE + guideline,
        scheme,
        review_articles(records),
        records_predictor(records),
        batch_size,
        allow_overlapping=True,
    )
