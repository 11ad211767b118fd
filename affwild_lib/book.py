"""What every results chapter sets up before it reaches the paper, in one place.

Chapters 03-08 and the reproduction page (90) compare the paper's tables with this build's
scores and with a *recorded run* (``results/<name>``, :mod:`affwild_lib.results`), and glue the
claims' verdicts (:mod:`affwild_lib.claims`) into their prose. ``ch = book.chapter(profile,
recorded_run)`` loads all of it once; the chapter's cells then read ``ch.ours``,
``ch.recorded``, ``ch.show(9)``, ``ch.verdict("landmarks")``. The cell that calls it is hidden
in the book (tag ``remove-input``): what a reader sees of it is the one-line note of what the
page's numbers come from.

Tables are shaped to fit the book's text column (issue 19): the CCC columns (valence, arousal,
and the seeds' spread where there were seeds) in the main table, the MSE columns in a second
table folded under it, and short row labels (our experiment's name) with the paper's row
wording in the caption.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import claims, results
from .config import repo_root

#: The main table's columns and the folded one's (Eqs. 1 and 2).
CCC_COLUMNS = ["ccc_valence", "ccc_arousal", "ccc_mean_sd"]
MSE_COLUMNS = ["mse_valence", "mse_arousal"]
#: Column headings: what each metric is, in a word.
HEADINGS = {"ccc_valence": "valence", "ccc_arousal": "arousal", "ccc_mean_sd": "seed sd",
            "mse_valence": "valence", "mse_arousal": "arousal", "pcc_valence": "PCC valence",
            "pcc_arousal": "PCC arousal"}


@dataclass
class Chapter:
    """A chapter's data: this build's scores (``ours``) and a recorded run's, if there is one."""

    profile: str
    recorded_run: str
    root: Path
    dataset: str | None = None       # Sect. 5's chapters: the dataset whose rows they show
    ours: pd.DataFrame = field(default_factory=pd.DataFrame)
    recorded_scores: pd.DataFrame | None = None
    recorded_verdicts: list[dict] = field(default_factory=list)
    recorded_info: dict | None = None

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"

    @property
    def has_recorded(self) -> bool:
        return self.recorded_scores is not None

    @property
    def recorded(self) -> dict[str, pd.DataFrame]:
        """name -> scores, as :func:`affwild_lib.results.side_by_side` takes them."""
        return {self.recorded_run: self.recorded_scores} if self.has_recorded else {}

    def _rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame if self.dataset is None else frame[frame["dataset"] == self.dataset]

    @property
    def source(self) -> str:
        """This build's label, e.g. 'ours (synthetic, tiny)'."""
        return results.label(self._rows(self.ours))

    @property
    def recorded_source(self) -> str:
        return results.label(self._rows(self.recorded_scores), self.recorded_run) if self.has_recorded else ""

    def note(self) -> str:
        """One line: what the page's numbers come from (Markdown)."""
        text = f"This page's numbers of ours are labelled *{self.source}*"
        if self.has_recorded:
            text += (f"; beside them, the {results.run_summary(self.recorded_run, self.recorded_info, brief=True)}"
                     f" (*{self.recorded_source}*)")
        else:
            text += f"; there is no recorded run `{self.recorded_run}` under `results/`"
        return text + ". The paper's numbers are labelled *paper*."

    def recorded_verdict(self, key: str) -> dict | None:
        return next((v for v in self.recorded_verdicts if v["claim"] == key), None)

    def verdict(self, key: str) -> dict:
        """This build's verdict on claim ``key``, glued as ``verdict_<key>`` with the recorded
        run's beside it."""
        from myst_nb import glue
        from IPython.display import Markdown

        v = claims.verdict(key, self.experiments)
        glue(f"verdict_{key}", Markdown(claims.markdown(v, self.recorded_verdict(key), f"`{self.recorded_run}`")),
             display=False)
        return v

    def side_by_side(self, table, metrics=None) -> pd.DataFrame:
        kw = {} if metrics is None else {"metrics": metrics}
        return results.side_by_side(table, self.ours, self.recorded, **kw)

    def show(self, table, caption: str = "", metrics=None) -> None:
        """Display Table ``table`` beside ours, shaped to fit (:func:`fitted`); the whole frame
        is :meth:`side_by_side`'s. Returns nothing, so that a cell ending in it shows the table
        once."""
        from IPython.display import HTML, display

        side = self.side_by_side(table, metrics)
        reference = None
        if any(m.startswith("mse_") for _, m in side.columns) and ("", "experiment") in side.columns:
            names = [str(e).partition(" (changed: ")[0] for e in side[("", "experiment")] if e]
            reference = results.constant_reference(self.experiments, names)
        display(HTML(fitted(side, caption, reference, self.source)))


    def show_model(self, name: str, compare: tuple[str, ...] = (), curves: bool = True) -> None:
        """The model as trained (issue 23): experiment ``name``'s blocks at the paper's size
        beside this build's (:func:`affwild_lib.plots.architecture`, in the manner of Fig. 13),
        the steps and frames it saw (:func:`seen`), and the learning curves of it and of the
        experiments in ``compare`` (this build's; a recorded run keeps no curves)."""
        import matplotlib.pyplot as plt
        from IPython.display import Markdown, display

        from . import plots
        from .experiments import resolve

        exp = resolve(name, self.profile, root=self.root)
        paper, ours = architecture(exp)
        fig = plots.architecture(paper, ours, title=f"{name}: the paper's size (96 x 96, width 1) "
                                                    f"and as trained here ({exp.input_size} x {exp.input_size}, "
                                                    f"width {exp.width:g})")
        display(fig)
        plt.close(fig)
        lines = [f"- **{n}**: {seen(self.experiments / n, resolve(n, self.profile, root=self.root))}"
                 for n in (name, *compare)]
        display(Markdown("What each model saw in this build (budget: " + budget(exp) + "):\n\n" + "\n".join(lines)))
        histories = {n: pd.read_csv(self.experiments / n / "history.csv") for n in (name, *compare)
                     if curves and (self.experiments / n / "history.csv").is_file()}
        if histories:
            chosen = {n: int(self.ours.loc[n, "epoch_chosen"]) for n in histories
                      if n in self.ours.index and pd.notna(self.ours.loc[n].get("epoch_chosen"))}
            fig = plots.learning_curves(histories, chosen)
            display(fig)
            plt.close(fig)

    def show_accuracies(self, caption: str = "") -> None:
        """Table 18 beside ours (:func:`affwild_lib.results.accuracy_side_by_side`), shaped to
        fit: total accuracy first, the accuracy per emotion folded under it, a table a source."""
        from IPython.display import HTML, display

        display(HTML(fitted(results.accuracy_side_by_side(self.ours, self.recorded), caption, main=["Total"])))


def chapter(profile: str, recorded_run: str = "", dataset: str | None = None,
            root: Path | None = None, announce: bool = True) -> Chapter:
    """Load what a results chapter compares, glue ``source`` (this build's label), set the
    figures' theme, and (``announce``) display the page's one-line note of its sources."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid")
    root = Path(root) if root else repo_root()
    ch = Chapter(profile=profile, recorded_run=recorded_run, root=root, dataset=dataset,
                 ours=results.scores(root / "experiments"))
    rec = results.recorded(recorded_run, root) if recorded_run else None
    if rec:
        ch.recorded_scores, ch.recorded_verdicts, ch.recorded_info = rec
    if announce:
        from IPython.display import Markdown, display
        from myst_nb import glue

        glue("source", ch.source, display=False)
        display(Markdown(ch.note()))
    return ch


def budget(exp) -> str:
    """A miniature's training budget in words (issue 23: stated where it is used): epochs,
    steps, batch, and the most frames one run sees; ``exp``: a resolved
    :class:`affwild_lib.experiments.Experiment`."""
    per_step = exp.batch_size * (exp.seq_len if exp.is_rnn else 1)
    batch = (f"{exp.batch_size} sequences of {exp.seq_len} frames" if exp.is_rnn
             else f"{exp.batch_size} frames")
    if exp.max_steps_per_epoch:
        steps = exp.epochs * exp.max_steps_per_epoch
        return (f"{exp.epochs} epochs of at most {exp.max_steps_per_epoch} steps of {batch}: at most "
                f"{steps:,} steps and {steps * per_step:,} frames seen, per seed")
    return f"{exp.epochs} full passes over the training frames, in steps of {batch}"


def architecture(exp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Experiment ``exp``'s blocks (:func:`affwild_lib.models.blocks`) at the paper's size
    (96 x 96 crops, width 1) and as the profile trains it; weights are never allocated."""
    import keras

    from .models import blocks, build

    with keras.StatelessScope(initialize_variables=False):  # a full VGG has ~10^8 weights
        paper = blocks(build(exp.model, **{**exp.model_config(), "width": 1.0, "input_size": 96}))
        ours = blocks(build(exp.model, **exp.model_config()))
    return paper, ours


def seen(folder: Path, exp) -> str:
    """What one trained run of ``exp`` (its ``folder``) actually saw: epochs run, steps and
    frames, from its ``train.json`` (training items) and ``history.csv`` (epochs)."""
    import json
    import math

    record, history = folder / "train.json", folder / "history.csv"
    if not (record.is_file() and history.is_file()):
        return "not trained in this build"
    items = json.loads(record.read_text()).get("n_train_items")
    epochs = len(pd.read_csv(history))
    if not items:
        return f"{epochs} epochs"
    per_epoch = math.ceil(items / exp.batch_size)
    if exp.max_steps_per_epoch:
        per_epoch = min(per_epoch, exp.max_steps_per_epoch)
    frames = epochs * per_epoch * exp.batch_size * (exp.seq_len if exp.is_rnn else 1)
    unit = f"sequences of {exp.seq_len} frames" if exp.is_rnn else "frames"
    return (f"{epochs} epochs of {per_epoch} steps ({epochs * per_epoch:,} steps) of {exp.batch_size} "
            f"{unit}: {frames:,} frames, drawn from {items:,} training {'windows' if exp.is_rnn else 'frames'}")


def _short_labels(side: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Rows labelled by our experiment's name; the paper's wording (and any setting changed
    from the paper's row) goes to the caption."""
    experiment = side[("", "experiment")] if ("", "experiment") in side.columns else pd.Series("", index=side.index)
    labels, legend = [], []
    for row, exp in zip(side.index, experiment):
        name, _, changed = str(exp).partition(" (changed: ")
        short = name or str(row)
        labels.append(short)
        if name and str(row) != name:
            legend.append(f"{short} = {row}" + (f" (changed: {changed.rstrip(')')})" if changed else ""))
    out = side.drop(columns=[("", "experiment")], errors="ignore")
    out.index = pd.Index(labels, name="row")
    return out, legend


def _table_html(frame: pd.DataFrame, caption: str) -> str:
    frame = frame.rename(columns=HEADINGS, level=1)
    styler = frame.style.format("{:.3f}", na_rep="–")
    if caption:
        styler = styler.set_caption(html.escape(caption))
    return styler.to_html()


def with_reference(table: pd.DataFrame, reference: dict, source: str) -> tuple[pd.DataFrame, list[str]]:
    """``table`` (short labels) with the constant predictor's row under ``source``'s columns,
    and a warning sign on each row of ``source`` whose MSE is worse than the constant's
    (issue 23: a model that does worse than knowing nothing of the faces is flagged)."""
    row = pd.DataFrame([[reference.get(m, float("nan")) if s == source and not m.endswith("_sd") else float("nan")
                         for s, m in table.columns]], columns=table.columns,
                       index=pd.Index([results.CONSTANT], name=table.index.name))
    worse = []
    for label in table.index:
        if any((source, m) in table.columns and pd.notna(table.at[label, (source, m)])
               and table.at[label, (source, m)] > reference[m] for m in MSE_COLUMNS):
            worse.append(label)
    out = pd.concat([table, row])
    out.index = [f"⚠ {label}" if label in worse else label for label in out.index]
    out.index.name = table.index.name
    return out, worse


#: A folded table wider than this many columns is split into one table per source.
MAX_FOLDED_COLUMNS = 9


def fitted(side: pd.DataFrame, caption: str = "", reference: dict | None = None, source: str = "",
           main=CCC_COLUMNS) -> str:
    """A :func:`affwild_lib.results.side_by_side` table as HTML that fits the text column:
    the ``main`` metrics first (CCC); MSE (and any other metric) in a second table folded under
    it, one per source when it would be wide. ``reference``
    (:func:`affwild_lib.results.constant_reference`): the constant predictor's row, under the
    columns of ``source`` (this build), whose rows worse than it on MSE are flagged."""
    table, legend = _short_labels(side)
    notes = []
    if reference is not None and source in table.columns.get_level_values(0):
        table, worse = with_reference(table, reference, source)
        notes.append(f"{results.CONSTANT}: every test frame predicted as that mean (CCC 0, MSE the "
                     "labels' variance)" + (f"; ⚠ {len(worse)} row(s) of {source} worse than it on MSE"
                                            if worse else ""))
    caption = " ".join(p for p in [caption, ("Rows: " + "; ".join(legend) + ".") if legend else "",
                                   ". ".join(notes) + ("." if notes else "")] if p)
    metrics = list(dict.fromkeys(m for _, m in table.columns))
    first = [m for m in metrics if m in main] or metrics
    rest = [m for m in metrics if m not in first]
    out = _table_html(table.loc[:, [c for c in table.columns if c[1] in first]], caption)
    if rest:
        second = table.loc[:, [c for c in table.columns if c[1] in rest]].dropna(axis=1, how="all")
        if not second.empty and second.notna().any().any():
            what = ("MSE (Eq. 2)" if set(rest) <= set(MSE_COLUMNS)
                    else ", ".join(HEADINGS.get(m, m) for m in rest[:3]) + (", ..." if len(rest) > 3 else ""))
            parts = ([second] if second.shape[1] <= MAX_FOLDED_COLUMNS else
                     [second.loc[:, [c for c in second.columns if c[0] == s]]
                      for s in dict.fromkeys(second.columns.get_level_values(0))])
            out += (f"<details><summary>{html.escape(what)}: the same rows</summary>"
                    + "".join(_table_html(part, "") for part in parts) + "</details>")
    return out


def _title(nb: dict, fallback: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def how_run(root: Path | None = None) -> str:
    """The book page "How this book was run" (Markdown): every executed chapter with its run
    time and status, from papermill's metadata and :func:`affwild_lib.notebooks.provenance`,
    and every recorded run with its own account (``results/*/run.json``)."""
    import json

    root = Path(root) if root else repo_root()
    rows, total, first = [], 0.0, None
    for path in sorted((root / "book" / "executed").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        pm = nb.get("metadata", {}).get("papermill", {})
        p = nb.get("metadata", {}).get("affwild", {}).get("provenance", {})
        first = first or p
        seconds = pm.get("duration")
        total += seconds or 0.0
        status = "failed" if pm.get("exception") else "ran" if seconds is not None else "unknown"
        rows.append(f"| [{_title(nb, path.stem)}]({path.stem}.ipynb) | "
                    f"{'–' if seconds is None else f'{seconds:.0f} s'} | {status} | "
                    f"`{p.get('profile', '?')}`, {p.get('data_source', '?')} | {p.get('ended', '?')} |")
    lines = ["# How this book was run", "",
             "Every chapter is a notebook executed by papermill under DVC (`dvc repro`, which "
             "`make book` runs), with the parameters of the active profile in `params.yaml`; this "
             "page is written from the executed notebooks' own records when the book is built. "
             "Each chapter's footer says the same for its page.", ""]
    if first:
        from .notebooks import _says
        lines += [f"The chapters ran with {_says({**first, 'seconds': None}).replace('; run time unknown', '')}.", ""]
    lines += ["| chapter | run time | status | profile, data | finished |", "|---|---|---|---|---|", *rows, "",
              f"The chapters took {total / 60:.1f} min together (their notebooks only; the training "
              "stages before them are not counted).", "", "## Recorded runs", "",
              "Runs on more data than `make book` can afford, kept in git under `results/` and shown "
              "beside this build's numbers in the chapters:", ""]
    found = False
    for run in sorted((root / "results").glob("*/run.json")):
        lines += [results.run_summary(run.parent.name, json.loads(run.read_text())), ""]
        found = True
    if not found:
        lines += ["None in this checkout.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    from .atomic import write_text

    parser = argparse.ArgumentParser(
        prog="python -m affwild_lib.book",
        description="Write the book page 'How this book was run' from the executed chapters "
                    "(book/executed/*.ipynb) and the recorded runs (results/*/run.json).")
    parser.add_argument("out", type=Path, help="the page to write, e.g. book/how_this_book_was_run.md")
    args = parser.parse_args(argv)
    text = how_run()
    write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0


__all__ = ["CCC_COLUMNS", "Chapter", "HEADINGS", "MSE_COLUMNS", "budget", "chapter", "fitted", "how_run",
           "with_reference"]

if __name__ == "__main__":
    raise SystemExit(main())
