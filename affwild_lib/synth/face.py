"""A 3-D point face: the 68 iBUG landmarks plus a few head points, identity, expression, pose.

Sect. 3.3 of the paper extracts 68 landmarks per frame and Sect. 4.2 feeds them to the
networks; here the landmarks come first and the picture is drawn from them (``render.py``),
so every frame has exact ground-truth landmarks.

Coordinates are "face units": x to the image right, y down, z towards the camera, origin
between the eyes' centres, about 0.84 units between the pupils. Point order is the iBUG 68
convention: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, outer mouth 48-59, inner mouth
60-67 (image-left first, as the subject faces the camera). Points 68+ are head points used
only for drawing: forehead (closing the face outline) and hair outline.

Expression is a linear blend of a few action-unit-like displacement fields (:data:`AUS`);
``affect.py`` decides how valence and arousal drive them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_LANDMARKS = 68
JAW, BROWS, NOSE = slice(0, 17), slice(17, 27), slice(27, 36)
EYE_L, EYE_R = slice(36, 42), slice(42, 48)
MOUTH_OUT, MOUTH_IN = slice(48, 60), slice(60, 68)
N_FOREHEAD = 9
FOREHEAD = slice(68, 68 + N_FOREHEAD)              # from above point 16 over the top to above 0
N_HAIR = 13
HAIR = slice(FOREHEAD.stop, FOREHEAD.stop + N_HAIR)  # outer hair/cranium arc, left to right
N_POINTS = HAIR.stop

#: Action-unit-like expression channels, each a displacement field over the points.
AUS = ("smile", "mouth_open", "brow_raise", "brow_furrow", "eye_open", "blink",
       "cheek_raise", "lip_raise", "lip_stretch")
AU = {name: k for k, name in enumerate(AUS)}

HAIR_STYLES = ("short", "long", "bald", "curly")


@dataclass(frozen=True)
class Identity:
    """One synthetic person: face geometry, colours and behavioural traits."""

    subject: str
    sex: str                       # 'M' | 'F' (Table 3 counts subjects by sex)
    shape: np.ndarray              # (N_POINTS, 3) neutral face in face units
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    hair_style: str
    iris: tuple[int, int, int]
    lips: tuple[int, int, int]
    shirt: tuple[int, int, int]
    glasses: bool
    expressiveness: float          # gain from felt affect to facial movement
    au_gain: np.ndarray            # (len(AUS),) how much each feature takes part: one person
                                   # smiles broadly but barely moves the brows, another not
    face_lag_s: float              # the face shows the affect of face_lag_s ago
    resting: np.ndarray            # (len(AUS),) resting-face offsets (some people look cross)
    blink_rate_hz: float
    talkativeness: float           # fraction of time spent talking


def _arc(n, x0, x1, y_mid, bulge, z=0.0):
    """n points from x0 to x1 along a parabola whose middle sits at y_mid - bulge."""
    s = np.linspace(-1.0, 1.0, n)
    x = x0 + (x1 - x0) * (s + 1) / 2
    y = y_mid - bulge * (1 - s * s)
    return np.stack([x, y, np.full(n, z)], axis=1)


def neutral_shape(jaw_width=1.0, jaw_square=0.8, chin=1.05, eye_gap=0.42, eye_w=0.19,
                  eye_h=0.085, brow_y=-0.56, nose_len=0.62, nose_w=0.2, mouth_w=0.33,
                  mouth_y=0.62, lip=0.07, head_top=-1.55, hairline=-1.1) -> np.ndarray:
    """The neutral 3-D face of one identity from a handful of proportions."""
    p = np.zeros((N_POINTS, 3))
    # Jaw: a U from the left ear (point 0) by the chin (8) to the right ear (16); the
    # exponent below 1 squares the jaw off; the sides curve back (negative z).
    t = np.linspace(0.0, np.pi, 17)
    c = -np.cos(t)
    p[JAW, 0] = jaw_width * np.sign(c) * np.abs(c) ** jaw_square
    p[JAW, 1] = -0.28 + (chin + 0.28) * np.sin(t) ** 1.15
    p[JAW, 2] = -0.7 * np.abs(c) ** 1.5 + 0.1
    # Brows: two arcs, outer end to inner end on the left, inner to outer on the right.
    p[17:22] = _arc(5, -0.85, -0.16, brow_y, 0.09, z=0.3)
    p[22:27] = _arc(5, 0.16, 0.85, brow_y, 0.09, z=0.3)
    p[17:27, 2] -= 0.2 * np.abs(p[17:27, 0]) ** 2
    # Nose: bridge 27-30 down the midline, nostril base 31-35.
    p[27:31, 1] = np.linspace(-0.36, -0.36 + nose_len, 4)
    p[27:31, 2] = np.linspace(0.35, 0.7, 4)
    base_y = -0.36 + nose_len + 0.07
    p[31:36, 0] = np.linspace(-nose_w, nose_w, 5)
    p[31:36, 1] = base_y + np.array([0.0, 0.02, 0.035, 0.02, 0.0])
    p[31:36, 2] = np.array([0.42, 0.5, 0.55, 0.5, 0.42])
    # Eyes: corner, two upper-lid points, corner, two lower-lid points (iBUG order).
    # Both eyes start at their image-left corner (outer for the left eye, inner for the right).
    dx = np.array([-1.0, -1 / 3, 1 / 3, 1.0, 1 / 3, -1 / 3]) * eye_w
    dy = np.array([0.0, -eye_h, -eye_h, 0.0, 0.8 * eye_h, 0.8 * eye_h])
    for sl, cx in ((EYE_L, -eye_gap), (EYE_R, eye_gap)):
        p[sl, 0] = cx + dx
        p[sl, 1] = -0.3 + dy
        p[sl, 2] = 0.22 - 0.12 * np.abs(dx / eye_w) ** 2
    # Outer lips 48-59: left corner, upper lip to the right corner, lower lip back.
    up = np.array([-1.0, -0.62, -0.25, 0.0, 0.25, 0.62, 1.0])
    p[48:55, 0] = mouth_w * up
    p[48:55, 1] = mouth_y - np.array([0.0, 0.45, 0.75, 0.6, 0.75, 0.45, 0.0]) * lip * 1.6
    lo = up[::-1][1:6]
    p[55:60, 0] = mouth_w * lo
    p[55:60, 1] = mouth_y + np.array([0.55, 0.9, 1.0, 0.9, 0.55]) * lip * 1.8
    # Inner lips 60-67: closed mouth, the two inner contours coincide.
    p[60, 0], p[64, 0] = -0.85 * mouth_w, 0.85 * mouth_w
    p[[61, 62, 63], 0] = np.array([-0.4, 0.0, 0.4]) * mouth_w
    p[[65, 66, 67], 0] = np.array([0.4, 0.0, -0.4]) * mouth_w
    p[60:68, 1] = mouth_y + 0.01
    p[48:68, 2] = 0.42 - 0.25 * (p[48:68, 0] / mouth_w) ** 2
    # Forehead arc (closes the skin outline over the brows) and the hair/cranium arc.
    a = np.linspace(0.0, np.pi, N_FOREHEAD)
    p[FOREHEAD, 0] = jaw_width * 0.98 * np.cos(a)
    p[FOREHEAD, 1] = -0.28 + (hairline - 0.05 + 0.28) * np.sin(a) ** 0.7
    p[FOREHEAD, 2] = -0.1 + 0.25 * np.sin(a)
    a = np.linspace(np.pi, 0.0, N_HAIR)
    p[HAIR, 0] = jaw_width * 1.12 * np.cos(a)
    p[HAIR, 1] = -0.2 + (head_top + 0.2) * np.sin(a) ** 0.6
    p[HAIR, 2] = -0.3 + 0.2 * np.sin(a)
    return p


def _au_fields(shape: np.ndarray) -> np.ndarray:
    """Displacement of every point for a unit of each action unit, shape (len(AUS), N, 3).

    Built from the identity's own neutral shape, so a blink closes *this* person's eyes.
    """
    d = np.zeros((len(AUS), N_POINTS, 3))
    # smile (+) / lip-corner depressor (-): corners up and out, lower lip curves up.
    s = d[AU["smile"]]
    s[[48, 60], :2] = [-0.05, -0.1]
    s[[54, 64], :2] = [0.05, -0.1]
    s[[49, 59], 1], s[[53, 55], 1] = -0.05, -0.05
    s[[50, 52, 61, 63, 67, 65], 1] = -0.02
    s[[56, 58], 1], s[[57, 66], 1] = -0.03, -0.015
    # mouth_open: the jaw drops, lower lip and chin follow.
    o = d[AU["mouth_open"]]
    o[55:60, 1] = [0.12, 0.2, 0.24, 0.2, 0.12]
    o[65:68, 1] = [0.2, 0.24, 0.2]
    o[[48, 54, 60, 64], 1] = 0.07
    o[61:64, 1] = -0.02
    o[4:13, 1] = 0.16 * np.sin(np.linspace(0.0, np.pi, 9)) ** 0.8
    # brow_raise: brows up, upper lids follow a little.
    d[AU["brow_raise"], 17:27, 1] = -0.13
    d[AU["brow_raise"], [37, 38, 43, 44], 1] = -0.015
    # brow_furrow: inner brows down and together (a frown).
    f = d[AU["brow_furrow"]]
    f[[20, 21], 0], f[[22, 23], 0] = 0.04, -0.04
    f[[19, 20, 21, 22, 23, 24], 1] = [0.03, 0.07, 0.1, 0.1, 0.07, 0.03]
    f[[17, 26], 1] = -0.015
    # eye_open: upper lids up (wide) or down (drowsy).
    d[AU["eye_open"], [37, 38, 43, 44], 1] = -0.045
    d[AU["eye_open"], [40, 41, 46, 47], 1] = 0.01
    # blink: the upper lid travels exactly onto the lower lid.
    for up_i, lo_i in ((37, 41), (38, 40), (43, 47), (44, 46)):
        d[AU["blink"], up_i, :2] = shape[lo_i, :2] - shape[up_i, :2]
    # cheek_raise: lower lids pushed up, nostril wings lift (Duchenne smile).
    d[AU["cheek_raise"], [40, 41, 46, 47], 1] = -0.035
    d[AU["cheek_raise"], [31, 35], 1] = -0.015
    # lip_raise: upper lip and nose wings up (disgust).
    r = d[AU["lip_raise"]]
    r[49:54, 1] = np.array([0.5, 0.9, 1.0, 0.9, 0.5]) * -0.07
    r[61:64, 1] = -0.05
    r[[31, 35], :2] = [[-0.03, -0.03], [0.03, -0.03]]
    r[[21, 22], 1] = 0.03
    # lip_stretch: corners pulled sideways (fear).
    t = d[AU["lip_stretch"]]
    t[[48, 60], 0], t[[54, 64], 0] = -0.07, 0.07
    t[55:60, 1] = 0.03
    return d


def expression_shapes(identity: Identity, aus: np.ndarray) -> np.ndarray:
    """(T, len(AUS)) activations -> (T, N_POINTS, 3) expressive faces."""
    fields = _au_fields(identity.shape)
    return identity.shape[None] + np.einsum("tk,knd->tnd", aus, fields)


def rotation(yaw, pitch, roll) -> np.ndarray:
    """(T, 3, 3) rotations: yaw about y, then pitch about x, then roll in the image plane."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    one, zero = np.ones_like(yaw), np.zeros_like(yaw)
    ry = np.stack([np.stack([cy, zero, sy], -1), np.stack([zero, one, zero], -1),
                   np.stack([-sy, zero, cy], -1)], -2)
    rp = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, cp, -sp], -1),
                   np.stack([zero, sp, cp], -1)], -2)
    rr = np.stack([np.stack([cr, -sr, zero], -1), np.stack([sr, cr, zero], -1),
                   np.stack([zero, zero, one], -1)], -2)
    return rr @ rp @ ry


def project(shapes: np.ndarray, yaw, pitch, roll, scale, cx, cy) -> np.ndarray:
    """Pose the faces and project them orthographically to pixels: (T, N, 2).

    Angles in radians, ``scale`` in pixels per face unit, (cx, cy) the pixel position of
    the face origin; all per frame, shape (T,).
    """
    rot = rotation(np.asarray(yaw), np.asarray(pitch), np.asarray(roll))
    posed = np.einsum("tij,tnj->tni", rot, shapes)
    xy = posed[..., :2] * np.asarray(scale)[:, None, None]
    return xy + np.stack([cx, cy], -1)[:, None, :]


def random_identity(rng: np.random.Generator, subject: str, sex: str) -> Identity:
    """Sample a person: proportions, colours (a wide range of skin tones), hair, traits."""
    male = sex == "M"
    geometry = dict(
        jaw_width=rng.uniform(0.9, 1.08) + (0.04 if male else 0.0),
        jaw_square=rng.uniform(0.55, 0.95) - (0.0 if male else 0.1),
        chin=rng.uniform(0.95, 1.15),
        eye_gap=rng.uniform(0.39, 0.45),
        eye_w=rng.uniform(0.16, 0.21),
        eye_h=rng.uniform(0.07, 0.1),
        brow_y=rng.uniform(-0.62, -0.52),
        nose_len=rng.uniform(0.55, 0.7),
        nose_w=rng.uniform(0.16, 0.24),
        mouth_w=rng.uniform(0.28, 0.38),
        mouth_y=rng.uniform(0.58, 0.68),
        lip=rng.uniform(0.05, 0.09),
        head_top=rng.uniform(-1.65, -1.5),
        hairline=rng.uniform(-1.2, -0.95),
    )
    # Skin tones along a light-to-dark line with some warmth jitter.
    tone = rng.uniform(0.0, 1.0)
    skin = np.array([235, 200, 175]) * (1 - tone) + np.array([95, 62, 45]) * tone
    skin = np.clip(skin + rng.normal(0, 8, 3), 30, 250)
    hair = np.array([[20, 16, 14], [60, 40, 25], [120, 80, 45], [200, 170, 110],
                     [140, 140, 140]])[rng.choice(5, p=[0.4, 0.25, 0.15, 0.12, 0.08])]
    styles = (0.5, 0.1, 0.15, 0.25) if male else (0.15, 0.6, 0.0, 0.25)
    lips = skin * np.array([0.78, 0.55, 0.55]) + np.array([25, 0, 5])
    resting = np.zeros(len(AUS))
    resting[[AU["smile"], AU["brow_furrow"], AU["eye_open"], AU["brow_raise"]]] = rng.normal(
        0, [0.12, 0.1, 0.12, 0.1])
    return Identity(
        subject=subject, sex=sex, shape=neutral_shape(**geometry),
        skin=tuple(int(c) for c in skin), hair=tuple(int(c) for c in hair),
        hair_style=str(rng.choice(HAIR_STYLES, p=styles)),
        iris=tuple(int(c) for c in rng.choice([[60, 40, 25], [40, 70, 110], [70, 90, 50],
                                                [25, 20, 15]], axis=0)),
        lips=tuple(int(c) for c in np.clip(lips, 0, 255)),
        shirt=tuple(int(c) for c in rng.integers(20, 230, 3)),
        glasses=bool(rng.random() < 0.15),
        expressiveness=float(rng.uniform(0.55, 1.3)),
        au_gain=rng.lognormal(0.0, 0.4, len(AUS)),
        face_lag_s=float(rng.uniform(0.08, 0.35)),
        resting=resting,
        blink_rate_hz=float(rng.uniform(0.15, 0.45)),
        talkativeness=float(rng.uniform(0.0, 0.45)),
    )
