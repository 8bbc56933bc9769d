"""Public benchmarks: importers into canonical records, and the train-and-score runs on them."""
