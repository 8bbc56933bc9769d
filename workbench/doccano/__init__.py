"""Doccano round trip: the local server, project set-up, push, annotators, pull into snapshots, and a benchmark."""
