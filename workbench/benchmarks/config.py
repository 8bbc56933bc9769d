"""The benchmark YAML (configs/benchmarks/*.yml): its schema, and the settings `workbench benchmark` runs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

from pydantic import BaseModel, StrictInt, StrictStr, confloat

from workbench.training.base_model import DEFAULT_BASE_MODEL
from workbench.training.pipeline import PipelineSpec
from workbench.yamlconfig import load_yaml_model


class _Part(BaseModel):
    """ner: or rel: a spaCy config (default: the one `workbench train` picks) and the overrides that adapt it."""

    config: Optional[StrictStr] = None
    overrides: Dict[StrictStr, Any] = {}

    class Config:
        extra = "forbid"


class _Thresholds(BaseModel):
    target_precision: Optional[confloat(gt=0, le=1)] = None
    min_dev_support: StrictInt = 20

    class Config:
        extra = "forbid"


class _Scores(BaseModel):
    ner_f1: Optional[float] = None
    rel_f1: Optional[float] = None

    class Config:
        extra = "forbid"


class BenchmarkFile(BaseModel):
    data: StrictStr
    labels: StrictStr
    output: StrictStr
    # The pipeline training starts from; "none" trains the -scratch configs.
    base_model: StrictStr = DEFAULT_BASE_MODEL
    ner: _Part
    rel: _Part
    thresholds: _Thresholds = _Thresholds()
    # Published figures to print beside ours: {system: {ner_f1, rel_f1}}.
    published: Dict[StrictStr, _Scores] = {}

    class Config:
        extra = "forbid"


@dataclass
class BenchmarkConfig:
    name: str
    data: Path
    labels: Path
    output: Path
    ner_config: Path | None
    rel_config: Path | None
    ner_overrides: dict = field(default_factory=dict)
    rel_overrides: dict = field(default_factory=dict)
    target_precision: float | None = None
    min_dev_support: int = 20
    published: dict = field(default_factory=dict)
    base_model: str = DEFAULT_BASE_MODEL

    def spec(self) -> PipelineSpec:
        return PipelineSpec(
            labels=self.labels,
            base_model=self.base_model,
            ner_config=self.ner_config,
            rel_config=self.rel_config,
            ner_overrides=self.ner_overrides,
            rel_overrides=self.rel_overrides,
            target_precision=self.target_precision,
            min_dev_support=self.min_dev_support,
        )


def load_benchmark_config(path: str | Path, name: str) -> BenchmarkConfig:
    """Read a benchmark YAML; unknown keys and wrong types are errors naming the file, key and line."""
    data = load_yaml_model(path, BenchmarkFile, "benchmark config")
    return BenchmarkConfig(
        name=name,
        data=Path(data.data),
        labels=Path(data.labels),
        output=Path(data.output),
        ner_config=Path(data.ner.config) if data.ner.config else None,
        rel_config=Path(data.rel.config) if data.rel.config else None,
        ner_overrides=dict(data.ner.overrides),
        rel_overrides=dict(data.rel.overrides),
        target_precision=data.thresholds.target_precision,
        min_dev_support=data.thresholds.min_dev_support,
        published={system: scores.dict(exclude_none=True) for system, scores in data.published.items()},
        base_model=data.base_model,
    )
