"""Matplotlib without a display, and PNGs that are byte-identical for the same inputs."""

from __future__ import annotations

from pathlib import Path

from workbench.fileio import atomic_open


def pyplot():
    """matplotlib.pyplot on the Agg backend: plots are written on machines without a display."""
    # Imported here: matplotlib takes half a second to import, and only drawing needs it.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: str | Path) -> None:
    """Write `fig` atomically and close it."""
    with atomic_open(path, "wb") as fh:
        # Without the software stamp the same figure gives the same bytes.
        fig.savefig(fh, format="png", dpi=110, metadata={"Software": None})
    pyplot().close(fig)
