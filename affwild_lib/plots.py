"""Seaborn re-drawings of the paper's figures.

Each function draws one kind of figure of the paper on data of any source (synthetic or
real) and returns the matplotlib Figure, so that a chapter can show it and a test can check it.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns


def va_histograms(valence, arousal, title: str = "") -> plt.Figure:
    """Histograms of valence and of arousal annotations side by side (as Fig. 6)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for ax, values, name, colour in ((axes[0], valence, "valence", "C0"), (axes[1], arousal, "arousal", "C3")):
        sns.histplot(x=np.asarray(values), bins=np.linspace(-1, 1, 41), ax=ax, color=colour,
                     stat="percent")
        ax.set(xlabel=name, xlim=(-1, 1), xticks=np.linspace(-1, 1, 5))
    axes[0].set_ylabel("% of frames")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def va_hist2d(valence, arousal, title: str = "", ax: plt.Axes | None = None, bins: int = 40) -> plt.Axes:
    """2-D histogram in the valence-arousal space (as Figs. 10, 15, 16 and 19); log colour
    scale, since a few neutral regions hold most frames."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4.2))
    edges = np.linspace(-1, 1, bins + 1)
    counts, _, _ = np.histogram2d(np.asarray(valence), np.asarray(arousal), bins=[edges, edges])
    masked = np.ma.masked_equal(counts.T, 0)
    mesh = ax.pcolormesh(edges, edges, masked, cmap="viridis",
                         norm=plt.matplotlib.colors.LogNorm(vmin=1, vmax=max(counts.max(), 1)))
    ax.figure.colorbar(mesh, ax=ax, label="frames")
    ax.axhline(0, color="0.4", lw=0.6)
    ax.axvline(0, color="0.4", lw=0.6)
    ax.set(xlim=(-1, 1), ylim=(-1, 1), xlabel="valence", ylabel="arousal")
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal")
    return ax


def va_trajectory(valence, arousal, frames, ax: plt.Axes | None = None) -> plt.Axes:
    """Points in the valence-arousal space, more recent frames drawn larger (Figs. 3-5)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.6))
    n = len(frames)
    sizes = 20 + 140 * np.arange(1, n + 1) / n
    ax.plot(valence, arousal, color="0.6", lw=0.8, zorder=1)
    ax.scatter(valence, arousal, s=sizes, c=np.arange(n), cmap="viridis", zorder=2)
    for v, a, f in zip(valence, arousal, frames):
        ax.annotate(str(f), (v, a), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.axhline(0, color="0.4", lw=0.6)
    ax.axvline(0, color="0.4", lw=0.6)
    ax.set(xlim=(-1, 1), ylim=(-1, 1), xlabel="valence", ylabel="arousal")
    ax.set_aspect("equal")
    return ax
