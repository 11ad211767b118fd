"""How much data to generate: ``tiny`` for CI and laptops, ``small`` ~10x, ``medium`` for GPUs.

A profile only sets counts, durations and frame sizes; what the data looks like is the
dataset's domain (``domains.py``). The real sizes, for scale: Aff-Wild 252 + 46 videos of
0.1-14.5 min at 640x360 median (Table 2); RECOLA 9 + 9 + 9 recordings of 300 s (AVEC 2016);
AFEW-VA 600 clips of 10 to 120+ frames; AFEW 773 train + 383 val clips.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AffWildSize:
    train_videos: int
    test_videos: int
    train_subjects: int
    test_subjects: int
    seconds: tuple[float, float]       # video length range
    size: tuple[int, int] = (320, 180)  # width, height (Aff-Wild's median is 640x360)
    annotators: tuple[int, int] = (6, 8)  # per video (Table 2: 6-8)


@dataclass(frozen=True)
class RecolaSize:
    per_split: int                       # recordings (= subjects) in each of train/dev/test
    seconds: float                       # the real recordings last 300 s
    size: tuple[int, int] = (320, 240)


@dataclass(frozen=True)
class AfewVASize:
    clips: int
    subjects: int
    frames: tuple[int, int]              # clip length range (real: ~10 to 120+)
    size: tuple[int, int] = (320, 256)


@dataclass(frozen=True)
class AfewSize:
    train_clips: int
    val_clips: int
    train_subjects: int
    val_subjects: int
    frames: tuple[int, int]
    size: tuple[int, int] = (320, 256)


@dataclass(frozen=True)
class Profile:
    affwild: AffWildSize
    recola: RecolaSize
    afew_va: AfewVASize
    afew: AfewSize


PROFILES: dict[str, Profile] = {
    # CI default: all four datasets in well under a minute on two cores, a few MB.
    "tiny": Profile(
        affwild=AffWildSize(8, 3, 6, 3, seconds=(8, 15)),
        recola=RecolaSize(3, seconds=15),
        afew_va=AfewVASize(20, 8, frames=(10, 16), size=(256, 192)),
        afew=AfewSize(24, 11, 10, 5, frames=(20, 40)),
    ),
    # About ten times tiny: enough for the chapters' comparisons to be more than noise.
    "small": Profile(
        affwild=AffWildSize(40, 12, 28, 10, seconds=(15, 45)),
        recola=RecolaSize(9, seconds=40),
        afew_va=AfewVASize(150, 40, frames=(10, 40), size=(256, 192)),
        afew=AfewSize(240, 120, 80, 40, frames=(20, 60)),
    ),
    # For GPU runs: Aff-Wild-like video sizes, real RECOLA length, full AFEW-VA/AFEW counts.
    "medium": Profile(
        affwild=AffWildSize(150, 40, 100, 35, seconds=(30, 120), size=(640, 360)),
        recola=RecolaSize(9, seconds=300, size=(480, 360)),
        afew_va=AfewVASize(600, 120, frames=(10, 120), size=(360, 288)),
        afew=AfewSize(773, 383, 240, 120, frames=(20, 100), size=(360, 288)),
    ),
}
