"""The four datasets' domains: how their videos look and how their subjects feel.

A domain is fixed by the dataset, a profile (``profiles.py``) only decides how much of it to
generate. The contrasts follow Sect. 2: Aff-Wild is YouTube in-the-wild (head pose,
illumination, clutter, occlusions, compression, some low-resolution and badly lit videos);
RECOLA is a lab (frontal, constant lighting, plain wall, mild affect); AFEW and AFEW-VA are
movie clips (colour grading, letterbox, shallow depth of field, intense affect).
"""
from __future__ import annotations

from dataclasses import dataclass

from .affect import AffectStyle


@dataclass(frozen=True)
class Look:
    """Visual conditions of a dataset's videos (ranges are sampled per video)."""

    background: str = "clutter"            # 'clutter' | 'plain' | 'movie'
    face_frac: tuple[float, float] = (0.48, 0.6)  # brow-to-chin height / frame height
    yaw_deg: float = 22.0                  # head pose amplitudes
    pitch_deg: float = 8.0
    roll_deg: float = 9.0
    drift: float = 0.08                    # head translation wander, fraction of the frame
    shake_px: float = 0.6                  # hand-held camera jitter
    pan_px: float = 12.0                   # camera pan over the background
    cut_every_s: float = 0.0               # background changes (0: never)
    light: tuple[float, float] = (0.75, 1.15)  # overall exposure range
    light_change: float = 0.12             # within-video exposure variation
    side_light: float = 0.5                # strength of directional light
    dark_p: float = 0.15                   # videos shot in bad light
    lowres_p: float = 0.2                  # videos upscaled from a low resolution
    noise: tuple[float, float] = (2.0, 5.0)  # sensor noise sd, grey levels
    occlusions_per_min: float = 3.0        # hands, cups, phones in front of the face
    motion_blur: bool = True
    movie_grade: bool = False              # teal/orange grading, letterbox, vignette
    talk_scale: float = 1.0


@dataclass(frozen=True)
class Domain:
    name: str
    look: Look
    affect: AffectStyle
    avi_p: float = 0.0                    # share of videos written as mpeg4 .avi
    fps_choices: tuple[float, ...] = (30.0,)
    male_p: float = 0.65


DOMAINS = {
    # Aff-Wild: 130 of 200 subjects male (Sect. 2.4), MP4 and some AVI, ~30 fps.
    "affwild": Domain("affwild", Look(cut_every_s=25.0), AffectStyle(), avi_p=0.2,
                      fps_choices=(30.0, 30000 / 1001), male_p=0.65),
    # RECOLA: lab recordings, frontal, constant lighting (Sect. 2.1), 25 Hz.
    "recola": Domain("recola", Look(
        background="plain", face_frac=(0.45, 0.5), yaw_deg=5.0, pitch_deg=3.0, roll_deg=3.0,
        drift=0.02, shake_px=0.0, pan_px=0.0, light=(1.0, 1.0), light_change=0.0,
        side_light=0.15, dark_p=0.0, lowres_p=0.0, noise=(1.5, 1.5), occlusions_per_min=0.0,
        motion_blur=False, talk_scale=1.4),
        AffectStyle(base_mean=(0.12, 0.0), base_sd=(0.1, 0.1), episode_every_s=7.0,
                    quadrant_p=(0.4, 0.15, 0.15, 0.3), intensity=0.7, drift_sd=0.08),
        fps_choices=(25.0,), male_p=0.5),
    # AFEW-VA: movie frames, intense and varied affect, short clips (Sect. 2.3).
    "afew-va": Domain("afew-va", Look(
        background="movie", face_frac=(0.42, 0.52), yaw_deg=25.0, cut_every_s=0.0,
        light=(0.6, 1.1), dark_p=0.2, lowres_p=0.0, noise=(0.0, 0.0), movie_grade=True,
        occlusions_per_min=4.0),
        AffectStyle(base_mean=(-0.05, 0.2), base_sd=(0.35, 0.3), episode_every_s=1.5,
                    quadrant_p=(0.3, 0.35, 0.2, 0.15), intensity=1.2, warmup_s=4.0),
        fps_choices=(25.0,), male_p=0.55),
    # AFEW: movie clips, one of seven emotions each (Sect. 2.2), xvid-like .avi.
    "afew": Domain("afew", Look(
        background="movie", face_frac=(0.42, 0.52), yaw_deg=25.0, light=(0.6, 1.1),
        dark_p=0.2, lowres_p=0.1, noise=(1.0, 3.0), movie_grade=True, occlusions_per_min=3.0),
        AffectStyle(), avi_p=1.0, fps_choices=(25.0,), male_p=0.55),
}
