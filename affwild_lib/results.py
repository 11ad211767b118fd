"""Our reproduced tables beside the paper's (Tables 5, 9-14), and recorded runs.

Our figures come from the DVC experiment outputs, ``experiments/<name>/metrics.json`` (written
by ``affwild evaluate``; ``scores.json`` holds the same headline for ``dvc metrics``); the
paper's from :mod:`affwild_lib.paper`. An experiment run with overrides of its paper settings
(``params.yaml`` ``experiments:``) is marked as such in every table, since its row no longer
measures what the paper's row did. Every column of ours is
labelled with the data and profile it came from, read from the run's own ``metrics.json``.

A *recorded run* is a run on more data than ``make book`` can afford (e.g. the ``small``
synthetic profile, hours on a CPU), kept in git under ``results/<name>/``: the scores, the
claim verdicts and how it was made (``run.json``: profile, data, commit, machine, times). The
chapters show it as a third column; ``python -m affwild_lib.results record results/NAME``
writes one from the current ``experiments/``.
"""
from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import pandas as pd

from . import claims as C
from .atomic import write_file, write_json
from .config import git as _git
from .config import repo_root
from .datasets.afew import EMOTIONS
from .experiments import EXPERIMENTS
from .paper import PAPER_EMOTIONS

METRICS = ["ccc_valence", "ccc_arousal", "mse_valence", "mse_arousal"]
#: Beside them where an experiment ran with several seeds: the seeds' sd of the mean CCC.
SPREAD = ["ccc_mean_sd"]
#: Sect. 5's further columns: Pearson CC (Table 16) and accuracies (Table 18).
TRANSFER_METRICS = ["pcc_valence", "pcc_arousal", "accuracy_total"] + [f"accuracy_{e}" for e in EMOTIONS]
#: The settings that define a paper row (the profile's scaling aside).
ROW_SETTINGS = ("model", "backbone", "landmarks", "annotation", "rnn", "rnn_layers", "rnn_units",
                "loss", "learning_rate", "dropout", "oversampling", "init")


def changed_settings(name: str, config: dict | None) -> str:
    """'rnn_units=100, ...': the row settings of a run that differ from the paper's."""
    if name not in EXPERIMENTS or EXPERIMENTS[name].dataset != "affwild":
        return ""  # params.yaml's experiments: block overrides Sect. 4's rows only
    base = EXPERIMENTS[name].as_dict()
    return ", ".join(f"{k}={config[k]}" for k in ROW_SETTINGS
                     if config and k in config and config[k] != base[k])


def experiments_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "experiments"


def scores(folder=None) -> pd.DataFrame:
    """Test scores of every evaluated experiment under ``folder`` (index: experiment), those of
    Sect. 4 and of Sect. 5 (``dataset`` says which: empty for Aff-Wild)."""
    folder = Path(folder) if folder else experiments_dir()
    rows = {}
    for name in EXPERIMENTS:
        path = folder / name / "metrics.json"
        if path.is_file():
            m = json.loads(path.read_text())
            summary = m.get("seed_summary") or {}
            seeds = {k: summary[k]["mean"] for k in METRICS + ["ccc_mean"] if k in summary}
            rows[name] = {**{k: m.get(k) for k in METRICS + ["ccc_mean"] + TRANSFER_METRICS},
                          **seeds,  # the mean over seeds, where there are several
                          "n_seeds": summary.get("n_seeds", 1),
                          "ccc_mean_sd": (summary.get("ccc_mean") or {}).get("sd"),
                          "dataset": m.get("dataset", ""),
                          "profile": m.get("profile"), "data_source": m.get("data_source"),
                          "epoch_chosen": m.get("epoch_chosen"), "n_test_frames": m.get("n_test_frames"),
                          "wall_seconds": m.get("wall_seconds"), "n_params": m.get("n_params"),
                          "initialisation": _initialisation(m.get("initialisation")),
                          "changed": changed_settings(name, m.get("config"))}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("experiment")


def _initialisation(value) -> str | None:
    """Sect. 4's metrics.json says {"used": ...}; Sect. 5's the name alone."""
    return value.get("used") if isinstance(value, dict) else value


def label(frame: pd.DataFrame, recorded: str | None = None) -> str:
    """'ours (synthetic, tiny)': which data and profile a column of ours came from."""
    if frame.empty:
        return "ours (not run)"
    data = "/".join(sorted(set(frame["data_source"].dropna())))
    profile = "/".join(sorted(set(frame["profile"].dropna())))
    return f"ours ({data}, {profile}{', recorded run ' + recorded if recorded else ''})"


def rows_of(table: int | str) -> dict[str, str]:
    """Paper row label -> the experiment reproducing it, for Table ``table`` (``"15x"``: our
    rows added to Table 15, which the paper does not have)."""
    out = {}
    for name, exp in EXPERIMENTS.items():
        for entry in exp.tables:
            t, _, row = entry.partition(":")
            if t == str(table):
                out[row] = name
    return out


def side_by_side(table: int | str, ours: pd.DataFrame | None = None,
                 recorded: dict[str, pd.DataFrame] | None = None,
                 metrics=METRICS + SPREAD) -> pd.DataFrame:
    """Table ``table`` with the paper's numbers and ours, one column group per source.

    ``ours``: :func:`scores` of this build (default: ``experiments/``); ``recorded``: name ->
    scores of recorded runs. Our scores are means over the training seeds, and ``ccc_mean_sd``
    their spread (a column only where some run had several seeds). Cells without a figure are
    NaN (e.g. MSE in Table 14).
    """
    from .paper import scores as paper_scores

    ours = scores() if ours is None else ours
    mapping = rows_of(table)
    if isinstance(table, int):
        paper = paper_scores(table)
        added = rows_of(f"{table}x")  # our extra rows (Sect. 5: the prior's controls)
        if added:
            mapping = {**mapping, **added}
            paper = paper.reindex(list(paper.index) + list(added))
            paper.index.name = "row"
    else:  # an ablation of Sect. 4.2 without a paper table ("loss", "oversampling")
        paper = pd.DataFrame(index=pd.Index(list(mapping), name="row"), columns=metrics, dtype=float)
    blocks = {"paper": paper.reindex(columns=metrics)}
    metrics = list(metrics)
    sources = [(label(ours), ours)] + [(label(s, n), s) for n, s in (recorded or {}).items()]
    for name, frame in sources:
        frame = frame.reindex(columns=list(frame.columns) + [m for m in metrics if m not in frame])
        blocks[name] = pd.DataFrame(
            [frame.loc[mapping[r], metrics] if r in mapping and mapping[r] in frame.index
             else pd.Series(index=metrics, dtype=float) for r in paper.index],
            index=paper.index).astype(float)
    out = pd.concat(blocks, axis=1)
    def name(row):
        exp = mapping.get(row, "")
        changed = ours.loc[exp, "changed"] if exp in ours.index and "changed" in ours else ""
        return f"{exp} (changed: {changed})" if isinstance(changed, str) and changed else exp

    out.insert(0, ("", "experiment"), [name(r) for r in paper.index])
    return out.dropna(axis=1, how="all")


def accuracy_side_by_side(ours: pd.DataFrame | None = None,
                          recorded: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Table 18: per-class and total accuracy on the EmotiW validation clips, the paper's rows
    and ours, one column group per source (this build, then each recorded run: name -> its
    scores), in the paper's column order."""
    from .paper import accuracies

    ours = scores() if ours is None else ours
    mapping = rows_of(18)
    paper = accuracies(18)
    columns = list(paper.columns)
    ours_cols = {f"accuracy_{e}": PAPER_EMOTIONS.get(e, e) for e in EMOTIONS} | {"accuracy_total": "Total"}
    blocks = {"paper": paper}
    for name, frame in [(None, ours)] + list((recorded or {}).items()):
        rows = frame.loc[[n for n in mapping.values() if n in frame.index]]
        if name is not None and rows.empty:
            continue  # a recorded run without Sect. 5
        frame = frame.reindex(columns=list(frame.columns) + [c for c in ours_cols if c not in frame])
        blocks[label(rows, name)] = pd.DataFrame(
            [frame.loc[mapping[r], list(ours_cols)].rename(ours_cols) if mapping.get(r) in frame.index
             else pd.Series(index=columns, dtype=float) for r in paper.index],
            index=paper.index)[columns].astype(float)
    out = pd.concat(blocks, axis=1)
    out.insert(0, ("", "experiment"), [mapping.get(r, "") for r in paper.index])
    return out


# --------------------------------------------------------------------------------------------
# Recorded runs




def record(out, folder=None, note: str = "", merge: bool = False) -> Path:
    """Write a recorded run of ``folder`` (default ``experiments/``) to ``out``.

    With ``merge``, ``folder`` is a further part of the run already recorded in ``out`` (e.g.
    Sect. 5 trained in a later session than Sect. 4): its experiments and its judged claims are
    added where ``out`` has none, and nothing recorded is replaced; a claim the part judges is
    judged on the part's own runs. An experiment that both
    parts trained keeps its earlier row; the part's own figure for it is kept in ``run.json``
    (``parts[-1]["reran"]``) so that a reader sees whether the rerun agreed.
    """
    out = Path(out)
    folder = Path(folder) if folder else experiments_dir()
    table = scores(folder)
    if table.empty:
        raise FileNotFoundError(f"{folder}: no evaluated experiment (metrics.json) to record")
    verdicts = C.verdicts(folder)
    part = {"commit": _git("rev-parse", "HEAD"), "dirty": bool(_git("status", "--porcelain")),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
            "python": sys.version.split()[0], "training_seconds": float(table["wall_seconds"].sum()),
            "note": note}
    run = {"profile": sorted(set(table["profile"].dropna())),
           "data_source": sorted(set(table["data_source"].dropna())), **part}
    if merge:
        earlier = _read(out)
        if earlier is None:
            raise FileNotFoundError(f"{out}: no recorded run to merge into (scores.csv)")
        table, verdicts, run = _merged(earlier, table, verdicts, part)
    out.mkdir(parents=True, exist_ok=True)
    write_file(out / "scores.csv", lambda p: table.to_csv(p))
    write_json(out / "verdicts.json", verdicts)
    write_json(out / "run.json", run)
    return out


def _merged(earlier, table: pd.DataFrame, verdicts: list[dict], part: dict):
    """(scores, verdicts, run.json) of a recorded run with a further part added."""
    old_table, old_verdicts, old_run = earlier
    if sorted(set(table["profile"].dropna())) != old_run["profile"]:
        raise ValueError(f"the part's profile {sorted(set(table['profile'].dropna()))} is not the "
                         f"recorded run's {old_run['profile']}: record it under another name")
    new_rows = [e for e in table.index if e not in old_table.index]
    part["experiments"] = new_rows
    part["reran"] = {e: {"ccc_mean": _number(table.at[e, "ccc_mean"]),
                         "recorded_ccc_mean": _number(old_table.at[e, "ccc_mean"])}
                     for e in table.index if e in old_table.index}
    judged = {v["claim"]: v for v in verdicts if v["verdict"] != "not run"}
    merged_verdicts = [judged.get(v["claim"], v) if v["verdict"] == "not run" else v
                       for v in old_verdicts]
    known = {v["claim"] for v in old_verdicts}
    merged_verdicts += [v for v in verdicts if v["claim"] not in known]  # claims added since
    part["claims"] = [v["claim"] for v in merged_verdicts
                      if v is judged.get(v["claim"]) and v["verdict"] != "not run"]
    if not new_rows and not part["claims"]:
        raise ValueError("this part adds no experiment and judges no claim the recorded run has "
                         "not judged: nothing to merge (was it merged already?)")
    parts = old_run.get("parts") or [{k: v for k, v in old_run.items()
                                      if k not in ("profile", "data_source")}]
    run = {"profile": old_run["profile"],
           "data_source": sorted(set(old_run["data_source"]) | set(table["data_source"].dropna())),
           "training_seconds": sum(p["training_seconds"] for p in parts) + part["training_seconds"],
           "note": f"recorded in {len(parts) + 1} parts, each with its own commit and note (parts)",
           "parts": [*parts, part]}
    merged_table = pd.concat([old_table, table.loc[new_rows]])
    return merged_table, merged_verdicts, run


def run_summary(name: str, run: dict, brief: bool = False) -> str:
    """A recorded run's ``run.json`` in words (Markdown): its data, profile, parts (each with
    its commit, training time and note). ``brief``: one line."""
    parts = run.get("parts") or [run]

    def minutes(seconds) -> str:
        return f"{float(seconds) / 60:.0f} min"

    commits = ", ".join(f"`{str(p.get('commit', '?'))[:7]}`" + (" (tree not clean)" if p.get("dirty") else "")
                        for p in parts)
    head = (f"recorded run `{name}`: {'/'.join(run.get('data_source', []))} data, profile "
            f"{'/'.join(run.get('profile', []))}, {minutes(run.get('training_seconds', 0))} of "
            f"training in {len(parts)} part{'s' if len(parts) > 1 else ''} (code {commits})")
    if brief:
        return head
    # issue 23: training time is the epochs' own (history.csv), a part's note says wall clock,
    # which adds synthesis, preparation, pre-training and evaluation
    lines = [head[0].upper() + head[1:] + ". Training time counts the epochs alone; the times in "
             "the notes below are wall clock, which adds data synthesis, preparation, pre-training and "
             "evaluation."]
    for i, p in enumerate(parts, start=1):
        n = len(p.get("experiments", []))
        what = f"{n} experiment{'s' if n != 1 else ''}" if "experiments" in p else "its experiments"
        lines.append(f"- Part {i}: {what}, {minutes(p.get('training_seconds', 0))} of training, on "
                     f"{p.get('machine', '?')}. {p.get('note', '')}")
    return "\n".join(lines)


def _number(value) -> float | None:
    """A score for JSON: NaN (no such metric, e.g. CCC of an accuracy-only row) as None."""
    value = float(value)
    return None if value != value else value


def _read(folder: Path) -> tuple[pd.DataFrame, list[dict], dict] | None:
    if not (folder / "scores.csv").is_file():
        return None
    table = pd.read_csv(folder / "scores.csv", index_col="experiment")
    verdicts = [C.rejudge(v) for v in json.loads((folder / "verdicts.json").read_text())]
    return table, verdicts, json.loads((folder / "run.json").read_text())


def recorded(name: str, root: Path | None = None) -> tuple[pd.DataFrame, list[dict], dict] | None:
    """(scores, verdicts, run info) of the recorded run ``results/<name>``, or None."""
    return _read((root or repo_root()) / "results" / name)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m affwild_lib.results",
                                     description="Record the current experiments/ as a run under results/.")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="write scores, verdicts and run.json to OUT")
    rec.add_argument("out")
    rec.add_argument("--experiments", help="experiments folder (default experiments/)")
    rec.add_argument("--note", default="", help="how the run was made, in words")
    rec.add_argument("--merge", action="store_true",
                     help="add this part (its experiments and the claims it judges) to the run "
                     "already recorded in OUT, replacing nothing there")
    args = parser.parse_args(argv)
    print(record(args.out, args.experiments, args.note, merge=args.merge))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


#: The reference row of every valence-arousal table (issue 23): a predictor that knows nothing
#: of the faces, one value for every frame.
CONSTANT = "constant: the test labels' mean"


def constant_reference(experiments: Path, names) -> dict | None:
    """What the best constant predictor scores on the test frames of the first of ``names`` that
    was evaluated (they share their test frames): every frame predicted as the mean of the test
    labels, so CCC 0 and MSE the labels' (biased) variance, Eq. 2. A model with a larger MSE does
    worse than knowing nothing of the faces. None when none of them has predictions."""
    for name in names:
        path = Path(experiments) / name / "predictions.csv"
        if path.is_file():
            labels = pd.read_csv(path, usecols=["valence", "arousal"])
            var = labels.var(ddof=0)
            return {"ccc_valence": 0.0, "ccc_arousal": 0.0, "mse_valence": float(var["valence"]),
                    "mse_arousal": float(var["arousal"]), "from": name}
    return None


def units_by_layers(side: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Table 14 as grids: for each source of a :func:`side_by_side` table of Table 14, the
    mean CCC (valence and arousal) by hidden units (rows) and hidden layers (columns), read from
    the experiments' own settings rather than from the paper's row wording."""
    mapping = rows_of(14)
    grids = {}
    for column in [s for s in side.columns.get_level_values(0).unique() if s]:
        cells = {}
        for row in side.index:
            exp = EXPERIMENTS[mapping[row]]
            cells[(exp.rnn_units, exp.rnn_layers)] = (side.loc[row, (column, "ccc_valence")]
                                                      + side.loc[row, (column, "ccc_arousal")]) / 2
        grid = pd.Series(cells).unstack()
        grid.index.name, grid.columns.name = "hidden units", "hidden layers"
        grids[column] = grid
    return grids


def long_ccc(side: pd.DataFrame) -> pd.DataFrame:
    """A :func:`side_by_side` table in long form for :func:`affwild_lib.plots.ccc_bars`."""
    rows = []
    for (source, metric) in side.columns:
        if metric in ("ccc_valence", "ccc_arousal"):
            for row, value in side[(source, metric)].items():
                if pd.notna(value):
                    rows.append({"row": row, "source": source,
                                 "dimension": metric.removeprefix("ccc_"), "ccc": value})
    return pd.DataFrame(rows)


