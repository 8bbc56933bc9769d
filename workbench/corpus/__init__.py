"""Corpus stage: raw articles in, one canonical record per article out, split by document."""
