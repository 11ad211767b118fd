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


def va_trajectory(valence, arousal, frames, ax: plt.Axes | None = None, max_labels: int = 6,
                  min_gap: float = 0.15) -> plt.Axes:
    """Points in the valence-arousal space, more recent frames drawn larger (Figs. 3-5).

    At most ``max_labels`` points are labelled, the most recent first, each at least ``min_gap``
    (valence-arousal units) from every other label: on a short clip the points pile up, and
    labels on all of them cannot be read."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.6))
    n = len(frames)
    sizes = 20 + 140 * np.arange(1, n + 1) / n
    ax.plot(valence, arousal, color="0.6", lw=0.8, zorder=1)
    ax.scatter(valence, arousal, s=sizes, c=np.arange(n), cmap="viridis", zorder=2)
    placed: list[tuple[float, float]] = []
    for v, a, f in reversed(list(zip(valence, arousal, frames))):
        if len(placed) >= max_labels or any(np.hypot(v - pv, a - pa) < min_gap for pv, pa in placed):
            continue
        placed.append((v, a))
        ax.annotate(str(f), (v, a), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.axhline(0, color="0.4", lw=0.6)
    ax.axvline(0, color="0.4", lw=0.6)
    ax.set(xlim=(-1, 1), ylim=(-1, 1), xlabel="valence", ylabel="arousal")
    ax.set_aspect("equal")
    return ax


def your_traces(traces, data_root, root, source: str = "", max_panels: int = 4) -> plt.Figure:
    """Chapter 02: a person's traces made with the annotation tool (under ``root``) among the
    release's annotators (grey), the release's label (dotted) and the label fused with theirs
    (black), one panel per video and dimension (:func:`affwild_lib.annotation.compare_with_release`)."""
    from .annotation import match_to_frames
    from .datasets.affwild import read_raw_traces

    shown = list(traces)[:max_panels]
    fig, axes = plt.subplots(len(shown), 1, figsize=(9, 3.0 * len(shown)), squeeze=False)
    for ax, tr in zip(axes[:, 0], shown):
        for t, v in read_raw_traces(data_root, tr.video_id, tr.dimension).values():
            ax.plot(tr.time_s, match_to_frames(t, v, tr.time_s), color="0.75", lw=0.8)
        for name, (t, v) in read_raw_traces(root, tr.video_id, tr.dimension).items():
            ax.step(t, v, where="post", lw=1.6, label=f"{name} (you{', chosen' if name in tr.chosen else ''})")
        if tr.released is not None:
            ax.plot(tr.time_s, tr.released, color="k", ls=":", lw=1.4, label="the release's label")
        ax.plot(tr.time_s, tr.fused, color="k", lw=2, label="label fused with your trace")
        ax.set(ylim=(-1, 1), xlabel="time (s)", ylabel=tr.dimension)
        ax.set_title(f"Video {tr.video_id}, {tr.dimension}: your trace among the release's annotators "
                     f"(grey; {source})", fontsize=10)
        ax.legend(fontsize=8, loc="lower left", ncol=2)
    fig.tight_layout()
    return fig


def predictions_vs_labels(stretch, fps: float = 30.0, title: str = "") -> plt.Figure:
    """Fig. 14: predictions and labels of valence (a) and arousal (b) over a stretch of one test
    video; ``stretch`` has columns frame_index, valence, arousal, valence_pred, arousal_pred."""
    fig, axes = plt.subplots(2, 1, figsize=(9, 4.6), sharex=True)
    t = np.asarray(stretch["frame_index"], float) / fps
    for ax, dim, tag in zip(axes, ("valence", "arousal"), "ab"):
        ax.plot(t, stretch[dim], color="0.25", lw=1.4, label="labels")
        ax.plot(t, stretch[f"{dim}_pred"], color="C3", lw=1.1, label="predictions")
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel(dim)
        ax.set_title(f"({tag}) {dim}", fontsize=10, loc="left")
    axes[0].legend(loc="upper right", ncol=2, fontsize=8)
    axes[-1].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def ccc_bars(table, title: str = "") -> plt.Figure:
    """Grouped bars of CCC (valence, arousal) per row and source; ``table`` has columns row,
    source, dimension, ccc (long format)."""
    # horizontal bars: the rows' labels (the paper's wording) read without overlapping
    n_rows = table["row"].nunique() if len(table) else 1
    grid = sns.catplot(data=table, kind="bar", y="row", x="ccc", hue="source", col="dimension",
                       height=max(2.6, 0.42 * n_rows + 1.0), aspect=1.1, palette="deep", orient="h")
    grid.set_axis_labels("CCC", "")
    grid.set_titles("{col_name}")
    for ax in grid.axes.flat:
        ax.axvline(0, color="0.3", lw=0.8)
    if grid.legend is not None:
        sns.move_legend(grid, "upper center", bbox_to_anchor=(0.5, 0.02), ncol=2, title=None, frameon=False)
        grid.figure.subplots_adjust(bottom=0.22)
    if title:
        grid.figure.suptitle(title, y=1.03)
    return grid.figure


def corpus_examples(corpora: dict, n_classes: int = 4, per_class: int = 6) -> plt.Figure:
    """A grid of pre-training images (:mod:`affwild_lib.pretrain`): for each corpus
    (name -> (images, labels)), ``n_classes`` classes, one row each, ``per_class`` images."""
    rows = [(name, c) for name, (_, labels) in corpora.items() for c in np.unique(labels)[:n_classes]]
    fig, axes = plt.subplots(len(rows), per_class, figsize=(1.1 * per_class, 1.15 * len(rows)),
                             squeeze=False)
    for (name, c), row in zip(rows, axes):
        images, labels = corpora[name]
        picks = np.flatnonzero(labels == c)[:per_class]
        for ax, k in zip(row, picks):
            ax.imshow(images[k])
        for ax in row:
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
        row[0].set_ylabel(f"{name} {c}", rotation=0, ha="right", va="center", fontsize=9)
    fig.tight_layout()
    return fig


def pretrain_curves(histories: dict, chance: dict | None = None) -> plt.Figure:
    """Validation accuracy per epoch of each backbone's pre-training (name -> history frame
    with ``epoch`` and ``val_accuracy``), with chance level dotted where given."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for k, (name, history) in enumerate(histories.items()):
        ax.plot(history["epoch"], history["val_accuracy"], marker="o", color=f"C{k}", label=name)
        if chance and name in chance:
            ax.axhline(chance[name], color=f"C{k}", linestyle=":", linewidth=1)
    ax.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1))
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def claim_intervals(table, title: str = "") -> plt.Figure:
    """Each comparison of :func:`affwild_lib.claims.table`: our difference with its 95%
    interval, and the paper's own gap between the same rows where it reports one."""
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(table) + 1))
    y = np.arange(len(table))[::-1]
    diff = table["difference"].astype(float)
    ax.errorbar(diff, y, xerr=[diff - table["95% CI low"].astype(float),
                               table["95% CI high"].astype(float) - diff],
                fmt="o", color="C0", capsize=3, label="ours (95% CI)")
    ax.plot(table["paper's gap"].astype(float), y, "D", color="C3", markersize=5,
            label="the paper's gap (Aff-Wild)")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(y, [f"{b} > {w}" for b, w in zip(table["better (paper)"], table["worse (paper)"])],
                  fontsize=8)
    ax.set_xlabel("difference of mean CCC (EmotiW: of accuracy), better minus worse\n"
                  "as the paper ranks them")
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


#: Colours of the kinds of block in :func:`architecture`.
BLOCK_COLOURS = {"input": "0.85", "landmarks": "#f2c14e", "conv": "#5b8fd6", "fc": "#8cc084", "rnn": "#d67b5b"}


def architecture(paper, ours, title: str = "", labels=("paper", "this build")) -> plt.Figure:
    """Two rows of boxes in the manner of Fig. 13: each block of the model
    (:func:`affwild_lib.models.blocks`) at the paper's size above, as trained here below; a box's
    height grows with the log of its channels or units, and its label gives them. The totals of
    parameters stand at the right of each row."""
    fig, ax = plt.subplots(figsize=(max(6.5, 0.62 * len(paper) + 1.8), 3.3))
    sizes = np.log2(np.maximum(np.concatenate([paper["size"], ours["size"]]).astype(float), 2))
    scale = 0.8 / sizes.max()
    for row, (frame, label) in enumerate(zip((paper, ours), labels)):
        y0 = 1.2 * (1 - row)
        for i, block in enumerate(frame.itertuples()):
            height = max(0.12, scale * np.log2(max(block.size, 2)))
            ax.add_patch(plt.Rectangle((i - 0.38, y0 + 0.5 - height / 2), 0.76, height,
                                       color=BLOCK_COLOURS.get(block.kind, "0.7"), linewidth=0))
            text = (f"{block.size}x{block.size}" if block.kind == "input" else f"{block.size:,}")
            ax.text(i, y0 + 0.5, text, ha="center", va="center", fontsize=7)
        total = int(frame["params"].sum())
        ax.text(len(frame) - 0.3, y0 + 0.5, f"{label}\n{total:,} params", ha="left", va="center", fontsize=8)
    for i, name in enumerate(paper["block"]):
        ax.text(i, 2.25, name, ha="center", va="bottom", fontsize=7, rotation=30)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in BLOCK_COLOURS.values()]
    ax.legend(handles, ["input (px)", "landmarks (values)", "conv stage (channels)", "fully connected (units)",
                        "recurrent (units)"], fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.45, -0.02),
              frameon=False)
    ax.set(xlim=(-0.6, len(paper) + 1.6), ylim=(-0.05, 2.7), title=title)
    ax.axis("off")
    fig.tight_layout()
    return fig


def learning_curves(histories: dict, chosen: dict | None = None) -> plt.Figure:
    """Training loss and validation CCC (mean of valence and arousal) per epoch of each
    experiment (name -> its ``history.csv`` as a frame), the epoch kept for testing (``chosen``:
    name -> epoch) ringed: what model selection on the held-out subjects saw."""
    fig, (loss_ax, ccc_ax) = plt.subplots(1, 2, figsize=(8, 3.2))
    for k, (name, history) in enumerate(histories.items()):
        loss_ax.plot(history["epoch"], history["loss"], marker="o", markersize=3, color=f"C{k}", label=name)
        ccc_ax.plot(history["epoch"], history["val_ccc_mean"], marker="o", markersize=3, color=f"C{k}")
        if chosen and name in chosen:
            best = history.loc[history["epoch"] == chosen[name], "val_ccc_mean"]
            ccc_ax.scatter([chosen[name]] * len(best), best, s=80, facecolors="none", edgecolors=f"C{k}")
    for ax in (loss_ax, ccc_ax):
        ax.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole
    loss_ax.set(xlabel="epoch", ylabel="training loss", title="training")
    ccc_ax.set(xlabel="epoch", ylabel="validation CCC (mean)", title="held-out subjects (ringed: kept)")
    loss_ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
