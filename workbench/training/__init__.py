"""Training stage: canonical records to spaCy DocBins, and pipelines trained from configs/."""
