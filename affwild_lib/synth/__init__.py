"""SynthAffWild: synthetic stand-ins for Aff-Wild, RECOLA, AFEW-VA and AFEW.

The datasets of the paper are licensed, so the book runs on data generated here, written in
the real releases' on-disk layouts (the book page *Data formats*, ``book/data_formats.md``) so
that one set of readers serves both.
The data is built for the paper's effects to be able to show: faces are drawn from 68
landmarks driven by a latent valence/arousal with a lag (Sects. 3-4), single frames are
ambiguous (blinks, talking, occlusions, motion blur) so temporal context helps (Sect. 4.2),
landmarks carry what low resolution and bad light hide (Table 10), and 6-8 simulated
annotators disagree and lag so that Sect. 3.4's fusion matters (Table 11).

    >>> from affwild_lib.synth import generate
    >>> summary = generate("tiny", Path("data/synth"), seed=0)   # doctest: +SKIP
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from ..atomic import replace_folder
from ..parallel import each
from .profiles import PROFILES, Profile

if TYPE_CHECKING:
    from .plan import Job

# The plan and the writers (SciPy's signal module, PyAV) load only when data is generated: every
# `affwild` command imports this package for the profile names, and paid 2 s for them.

__all__ = ["generate", "PROFILES", "Profile"]

MARKER = "SYNTHETIC.md"


def generate(profile: str = "tiny", out: Path | str = Path("data/synth"), seed: int = 0,
             progress: bool = True, workers: int | None = None) -> dict:
    """Generate all four synthetic datasets under ``out`` and return a summary.

    ``out`` is written atomically: everything goes to a temporary folder beside it, renamed
    into place only when complete, so an interrupted run never leaves a half dataset that
    looks whole. An existing ``out`` is replaced only if it is an earlier synthetic release
    (it holds ``SYNTHETIC.md``); anything else there is refused.

    The labels are identical for a given seed; so are the video bytes (single-threaded
    encoders). ``workers`` processes render videos in parallel (default: all CPUs).

    Returns ``{"profile", "seed", "wall_s", "datasets": {name: {"videos", "frames",
    "bytes", "seconds"}}}``, ``seconds`` being the footage duration.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise FileExistsError(f"{out} exists and is not a synthetic release; not touching it")
    from .plan import plan

    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    jobs = [job for jobs in plan(seed, PROFILES[profile]).values() for job in jobs]
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        rows = _run(jobs, tmp, workers, progress)
        summary = _index(tmp, rows, jobs, profile, seed)
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary["wall_s"] = round(time.perf_counter() - started, 2)
    return summary


def _run(jobs: list[Job], root: Path, workers: int | None, progress: bool) -> list[dict]:
    """Run the jobs, longest first so that the pool stays busy; rows come back in plan order."""
    from .writers import run_job

    workers = workers or os.cpu_count() or 1
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].n_frames * jobs[i].size[0])
    rows: list[dict | None] = [None] * len(jobs)
    bar = tqdm(total=len(jobs), desc="synth", unit="video", disable=not progress)
    if workers == 1:
        for i in order:
            rows[i] = run_job(jobs[i], root)
            bar.update()
    else:
        for k, row in each(run_job, [(jobs[i], root) for i in order], workers):
            rows[order[k]] = row
            bar.update()
    bar.close()
    return rows


def _write_csv(path: Path, rows: list[dict]):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _index(root: Path, rows: list[dict], jobs: list[Job], profile: str, seed: int) -> dict:
    """Per-dataset indexes in synth_truth/, SYNTHETIC.md and synth_summary.json."""
    datasets = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        truth = root / name / "synth_truth"
        _write_csv(truth / "videos.csv", mine)
        subjects = {}
        for r in mine:
            s = subjects.setdefault(r["subject"], {"subject": r["subject"], "split": r["split"],
                                                  "sex": r["sex"], "videos": []})
            s["videos"].append(r["video"])
        _write_csv(truth / "subjects.csv",
                   [{**s, "videos": " ".join(s["videos"])} for s in subjects.values()])
        pool = {a.name: a for j in jobs if j.dataset == name for a in j.annotators}
        if pool:
            _write_csv(truth / "annotators.csv",
                       [{k: (round(v, 4) if isinstance(v, float) else v)
                         for k, v in asdict(a).items()} for a in sorted(pool.values(),
                                                                       key=lambda a: a.name)])
        datasets[name] = {"videos": len(mine), "frames": sum(r["frames"] for r in mine),
                          "bytes": sum(p.stat().st_size for p in (root / name).rglob("*")
                                       if p.is_file()),
                          "seconds": round(sum(r["seconds"] for r in mine), 2)}
    summary = {"profile": profile, "seed": seed, "datasets": datasets}
    (root / "synth_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (root / MARKER).write_text(_readme(summary))
    return summary


def _readme(summary: dict) -> str:
    table = "\n".join(f"| {name} | {d['videos']} | {d['frames']} | {d['seconds']:.0f} | "
                      f"{d['bytes'] / 1e6:.1f} |" for name, d in summary["datasets"].items())
    return f"""# This is synthetic data

Nothing here was filmed. Every video, face, label and annotator trace in this folder was
generated by `affwild_lib.synth` (profile `{summary['profile']}`, seed {summary['seed']}) as a
stand-in for the licensed datasets of Kollias et al., "Deep Affect Prediction in-the-wild"
(IJCV 2019). No result obtained on it says anything about real people or real data.

| dataset | videos | frames | seconds | MB |
|---|---|---|---|---|
{table}

## How it was made
- Each subject (one split only) has a face of 68 iBUG landmarks plus head points, with
  their own proportions, skin tone, hair, glasses, expressiveness and facial lag.
- A latent valence/arousal trajectory (calm baseline plus reaction episodes, more often
  positive than negative valence) drives facial actions (mouth corners and opening, eye
  opening, brows, cheeks) after a per-subject lag. Blinks and talking move the same features
  independently of affect.
- Frames are drawn from the landmarks (PIL) under head pose, camera drift, cluttered or
  plain or movie backgrounds, changing directional light, occluders (hands, mugs, phones),
  motion blur, sensor noise and low resolution, then encoded with PyAV (H.264 .mp4,
  MPEG-4 .avi) or written as PNG.
- Aff-Wild labels: 6-8 simulated joystick annotators per video (reaction delay, smoothing,
  gain, bias, drift, jitter, valence/arousal cross-talk; two of the eight are poor),
  sampled at a variable rate (`annotations_raw/`), matched to frames by nearest timestamp
  with tie averaging and fused as the mean of the 2-4 most correlated (paper Sects. 3.3-3.4,
  `affwild_lib.annotation.fuse`). RECOLA gold standard: the mean of 6 raters every 40 ms.
  AFEW-VA: round(10 x latent). AFEW: each clip has one of seven emotions, tied to a region
  of the valence-arousal plane and to a facial signature, with AFEW's class imbalance.

## What the real releases do not have
`<dataset>/synth_truth/`: per video an `.npz` with the latent `valence`/`arousal` per frame,
the true `landmarks` (n, 68, 2) in the video's pixel coordinates, `frame_times`, `subject`,
`split`, head pose (`yaw_deg`, `pitch_deg`, `roll_deg`), `occluded`, `blink` and all facial
actions (`aus`, `au_names`), plus the chosen annotators (Aff-Wild) or all rater traces
(RECOLA) or the emotion (AFEW). `subjects.csv` (subject, split, sex, videos), `videos.csv`
(one row per video: frames, fps, size, lighting, resolution, occlusions) and, where there are
annotators, `annotators.csv` with their simulated traits.

Deviations from the real layouts: Aff-Wild test labels are included (we organise this
synthetic challenge); `annotations_raw/` exists only here; AFEW-VA subjects carry a
suggested fold (`fold1`-`fold5`) for person-independent cross-validation (Sect. 5.1.2).
"""
