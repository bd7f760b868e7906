"""Pictures of architectures: the space's graph form drawn with matplotlib.

Every space with a graph form (:mod:`nasdb.spaces.graphs`) is drawn the same way: nodes
are ops (cells' edge ops become nodes, macro networks are a chain of layers), placed in
columns by their longest distance from the input, with arrows along the edges.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasdb.errors import NasdbError, UnknownName

FORMATS = (".png", ".svg")


def labelled_graph(space, index: int) -> tuple[list[str], np.ndarray]:
    """(op name per node, adjacency) of one architecture, padding nodes dropped."""
    if not hasattr(space, "graphs"):
        raise UnknownName(f"space {space.name!r} has no graph form to draw")
    ops, adjacency = space.graphs([index])
    keep = np.flatnonzero(ops[0] >= 0)
    names = [space.graph_ops[int(c)] for c in ops[0][keep]]
    return names, adjacency[0][np.ix_(keep, keep)]


def _columns(adjacency: np.ndarray) -> np.ndarray:
    """Longest path length from the input to each node (nodes are in topological order)."""
    depth = np.zeros(len(adjacency), dtype=int)
    for j in range(1, len(adjacency)):
        parents = np.flatnonzero(adjacency[:j, j])
        depth[j] = depth[parents].max() + 1 if len(parents) else 0
    return depth


def check_target(path: str | Path) -> Path:
    """The picture's path, refused before anything is printed unless it is .png or .svg."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise UnknownName(f"--plot {path}: the file name must end in .png or .svg")
    return path


def draw(space, index: int, path: str | Path, title: str | None = None) -> Path:
    """Write the architecture's graph to ``path`` (.png or .svg), labels as text."""
    path = check_target(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, adjacency = labelled_graph(space, index)
    col = _columns(adjacency)
    row = np.zeros(len(names))
    for c in np.unique(col):
        members = np.flatnonzero(col == c)
        row[members] = np.arange(len(members)) - (len(members) - 1) / 2
    width, height = max(col) + 1, max(np.bincount(col))
    with plt.rc_context({"svg.fonttype": "none"}):  # SVG labels stay searchable text
        fig, ax = plt.subplots(figsize=(2.2 * width + 1, 1.1 * height + 1))
        long_edges = 0
        for i, j in zip(*np.nonzero(adjacency), strict=True):
            rad = 0.0
            if col[j] - col[i] > 1:  # skips columns: bend it so it does not cross nodes
                long_edges += 1
                rad = (0.15 + 0.1 * (long_edges // 2)) * (-1) ** long_edges
            ax.annotate("", xy=(col[j], -row[j]), xytext=(col[i], -row[i]),
                        arrowprops={"arrowstyle": "-|>", "shrinkA": 12, "shrinkB": 12,
                                    "connectionstyle": f"arc3,rad={rad}"})  # fmt: skip
        for x, y, name in zip(col, row, names, strict=True):
            ax.text(x, -y, name, ha="center", va="center", fontsize=9,
                    bbox={"boxstyle": "round", "facecolor": "#e8eef7"})  # fmt: skip
        ax.set_xlim(-0.6, width - 0.4)
        ax.set_ylim(-height / 2 - 0.8, height / 2 + 0.8)
        ax.axis("off")
        if title:
            ax.set_title(title, fontsize=9)
        try:
            fig.savefig(path, format=path.suffix[1:].lower(), bbox_inches="tight")
        except OSError as exc:
            raise NasdbError(f"--plot {path}: cannot write the picture ({exc.strerror})") from None
        finally:
            plt.close(fig)
    return path
