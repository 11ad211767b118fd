"""Drawing frames from landmarks: PIL polygons for the face, numpy for light and noise.

The face is drawn from its projected points only (``face.py``), so the pixels carry exactly
the information the landmarks carry, degraded by the nuisances of ``scene.py``: pose, a
cluttered and changing background, directional and changing light, occluders, motion blur,
sensor noise, low resolution and (when encoded) compression. Movie domains get a colour
grade, a vignette and letterbox bars.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .domains import Look
from .face import EYE_L, EYE_R, FOREHEAD, HAIR, JAW, Identity
from .scene import Scene

NOISE_BANK = 6  # precomputed noise frames, cycled in a shuffled order


def _rgb(colour, k=1.0):
    return tuple(int(v) for v in np.clip(np.asarray(colour, float) * k, 0, 255))


def _flat(points) -> list[float]:
    return np.asarray(points, float).ravel().tolist()


def _muted(rng: np.random.Generator):
    """A furniture-like colour: mostly grey-brown, rarely saturated."""
    grey = rng.uniform(40, 230)
    return _rgb(grey + rng.normal(0, 1, 3) * rng.choice([12.0, 45.0], p=[0.75, 0.25]))


def _soften(x: np.ndarray) -> np.ndarray:
    """Separable [1, 2, 1] / 4 blur over both image axes (cheaper than PIL's filters)."""
    y = x.copy()
    y[1:-1] = 0.25 * (x[:-2] + x[2:]) + 0.5 * x[1:-1]
    z = y.copy()
    z[:, 1:-1] = 0.25 * (y[:, :-2] + y[:, 2:]) + 0.5 * y[:, 1:-1]
    return z


def make_background(rng: np.random.Generator, kind: str, w: int, h: int) -> np.ndarray:
    """A (h, w, 3) uint8 backdrop: a lab wall, a cluttered room, or a blurred movie set."""
    if kind == "plain":
        wall = rng.uniform(170, 215) * np.array([1.0, 0.98, 0.94])
        ramp = np.linspace(1.03, 0.95, h)[:, None, None]
        return np.clip(wall * ramp, 0, 255).astype(np.uint8).repeat(w, axis=1)
    movie = kind == "movie"
    base = _rgb(_muted(rng), 0.35) if movie else _muted(rng)
    img = Image.new("RGB", (w, h), base)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(14, 26))):
        x0, y0 = rng.uniform(-0.1, 1.0) * w, rng.uniform(-0.1, 1.0) * h
        bw, bh = rng.uniform(0.05, 0.45) * w, rng.uniform(0.05, 0.6) * h
        colour = _muted(rng)
        shape = rng.choice(["rect", "framed", "ellipse", "shelf", "window"])
        if shape == "ellipse":
            draw.ellipse([x0, y0, x0 + bw * 0.5, y0 + bw * 0.5], fill=colour)
        elif shape == "shelf":
            for k in range(int(rng.integers(2, 5))):
                y = y0 + k * bh / 3
                draw.rectangle([x0, y, x0 + bw, y + 3], fill=_rgb(colour, 0.6))
                for j in range(int(rng.integers(3, 8))):  # books
                    bx = x0 + j * bw / 8
                    draw.rectangle([bx, y - rng.uniform(6, 14), bx + bw / 10, y],
                                   fill=_muted(rng))
        elif shape == "window":
            draw.rectangle([x0, y0, x0 + bw, y0 + bh], fill=_rgb([235, 240, 245]))
            draw.line([x0 + bw / 2, y0, x0 + bw / 2, y0 + bh], fill=_rgb(colour), width=3)
            draw.line([x0, y0 + bh / 2, x0 + bw, y0 + bh / 2], fill=_rgb(colour), width=3)
        else:
            draw.rectangle([x0, y0, x0 + bw, y0 + bh], fill=colour)
            if shape == "framed":
                draw.rectangle([x0 + bw * 0.15, y0 + bh * 0.15, x0 + bw * 0.85, y0 + bh * 0.85],
                               fill=_muted(rng))
    if movie:  # out-of-focus highlights of a shallow depth of field
        for _ in range(int(rng.integers(10, 30))):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(3, 12)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=_rgb(rng.uniform(150, 255, 3)))
    img = img.filter(ImageFilter.GaussianBlur(4.0 if movie else 1.2))
    return np.asarray(img)


class Renderer:
    """Draws the frames of one video of one subject."""

    def __init__(self, rng: np.random.Generator, identity: Identity, look: Look, scene: Scene,
                 size: tuple[int, int]):
        self.id, self.look, self.scene = identity, look, scene
        self.w, self.h = size
        n = len(scene.yaw)
        self.margin = int(3 * look.pan_px) + 2
        self.backgrounds = [
            make_background(rng, look.background, self.w + 2 * self.margin,
                            self.h + 2 * self.margin)
            for _ in range(int(scene.background.max()) + 1)]
        x = (np.arange(self.w, dtype=np.float32) / self.w - 0.5)
        y = (np.arange(self.h, dtype=np.float32) / self.h - 0.5)
        self.gx, self.gy = x[None, :], y[:, None]
        if scene.noise_sd > 0:
            self.noise = rng.normal(0, scene.noise_sd, (NOISE_BANK, self.h, self.w, 3)) \
                .astype(np.float32)
            self.noise_order = rng.integers(0, NOISE_BANK, n)
        # Per-pixel colour gain fixed for the video: colour temperature, movie vignette.
        self.colour = np.ones((self.h, self.w, 3), np.float32) * scene.tint.astype(np.float32)
        if look.movie_grade:
            r2 = (self.gx / 0.7) ** 2 + (self.gy / 0.7) ** 2
            self.colour *= (1.0 - 0.6 * r2)[..., None].clip(0.3, 1.0)
            self.bars = int(self.h * rng.uniform(0.05, 0.1))
        self.occluder_colour = [_rgb(rng.uniform(30, 230, 3)) for _ in scene.occluders]
        skin = np.asarray(identity.skin, float)
        self.skin = [_rgb(skin, k) for k in (0.72, 0.86, 0.96, 1.06)]
        self.brow = _rgb(np.minimum(np.asarray(identity.hair, float), skin * 0.45))

    # -- the face ----------------------------------------------------------------------
    def _body(self, draw: ImageDraw.ImageDraw, p: np.ndarray, s: float):
        down = p[8] - p[27]
        base = p[8] + 0.45 * down
        sx, sy = s * np.array([1.0, 0.0]), s * np.array([0.0, 1.0])
        torso = [base - 0.4 * sx - 0.05 * sy, base - 1.4 * sx + 0.15 * sy,
                 base - 2.0 * sx + 0.55 * sy, (base[0] - 2.3 * s, self.h + 4),
                 (base[0] + 2.3 * s, self.h + 4), base + 2.0 * sx + 0.55 * sy,
                 base + 1.4 * sx + 0.15 * sy, base + 0.4 * sx - 0.05 * sy]
        draw.polygon(_flat(torso), fill=self.id.shirt)
        neck = [p[5], p[11], p[11] + 0.55 * down, p[5] + 0.55 * down]
        draw.polygon(_flat(neck), fill=self.skin[0])

    def _hair_back(self, draw: ImageDraw.ImageDraw, p: np.ndarray, s: float):
        hair, style = p[HAIR], self.id.hair_style
        down = p[8] - p[27]
        if style == "long":
            outline = np.concatenate([hair, [hair[-1] + 0.9 * down + [0.1 * s, 0],
                                             p[12] + 0.6 * down, p[4] + 0.6 * down,
                                             hair[0] + 0.9 * down - [0.1 * s, 0]]])
        else:
            outline = np.concatenate([hair, [p[15], p[1]]])
        colour = self.skin[1] if style == "bald" else self.id.hair
        draw.polygon(_flat(outline), fill=colour)
        if style == "curly":
            r = 0.2 * s
            for x, y in hair[::2]:
                draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        for k in (1, 15):  # ears, just outside the jaw line
            c = p[k] + 0.08 * (p[k] - p[30])
            draw.ellipse([c[0] - 0.1 * s, c[1] - 0.2 * s, c[0] + 0.1 * s, c[1] + 0.2 * s],
                         fill=self.skin[1])

    def _skin(self, draw: ImageDraw.ImageDraw, p: np.ndarray, s: float, k: int):
        """Face outline in shaded bands: shrinking copies shifted towards the light."""
        outline = np.concatenate([p[JAW], p[FOREHEAD]])
        c = outline.mean(axis=0)
        a = self.scene.light_dir[k]
        towards = np.array([np.cos(a), np.sin(a)]) * self.scene.side_light * 0.18 * s
        for shrink, shift, colour in ((1.0, 0.0, self.skin[0]), (0.92, 0.4, self.skin[1]),
                                      (0.76, 1.0, self.skin[2]), (0.5, 1.6, self.skin[3])):
            draw.polygon(_flat(c + shrink * (outline - c) + shift * towards), fill=colour)

    def _eye(self, img: Image.Image, draw: ImageDraw.ImageDraw, e: np.ndarray, k: int):
        """Eye white, iris clipped to the lids (a small masked paste), lash line."""
        draw.polygon(_flat(e), fill=(228, 224, 218))
        width = float(np.linalg.norm(e[3] - e[0]))
        x0, y0 = np.floor(e.min(axis=0)).astype(int) - 1
        x1, y1 = np.ceil(e.max(axis=0)).astype(int) + 2
        if x1 - x0 > 2 and y1 - y0 > 2:
            mask = Image.new("L", (x1 - x0, y1 - y0), 0)
            ImageDraw.Draw(mask).polygon(_flat(e - [x0, y0]), fill=255)
            patch = img.crop((x0, y0, x1, y1))
            pd = ImageDraw.Draw(patch)
            c = e.mean(axis=0) - [x0, y0] + self.scene.gaze[k] * [0.3 * width, 0.08 * width]
            for r, colour in ((0.24 * width, self.id.iris), (0.11 * width, (12, 10, 10))):
                pd.ellipse([c[0] - r, c[1] - r, c[0] + r, c[1] + r], fill=colour)
            img.paste(patch, (int(x0), int(y0)), mask)
        draw.line(_flat(e[:4]), fill=(25, 20, 20), width=max(1, round(0.09 * width)))
        draw.line(_flat(np.concatenate([e[3:], e[:1]])), fill=self.skin[0], width=1)

    def _features(self, img: Image.Image, draw: ImageDraw.ImageDraw, p: np.ndarray, s: float,
                  k: int):
        for eye in (EYE_L, EYE_R):
            self._eye(img, draw, p[eye], k)
        brow_w = max(2, round(0.07 * s))
        draw.line(_flat(p[17:22]), fill=self.brow, width=brow_w, joint="curve")
        draw.line(_flat(p[22:27]), fill=self.brow, width=brow_w, joint="curve")
        # Nose: a shadow down the bridge on the side away from the light, nostrils below.
        a = self.scene.light_dir[k]
        away = -np.array([np.cos(a), np.sin(a)]) * 0.05 * s
        draw.line(_flat(p[28:31] + away), fill=self.skin[1], width=max(1, round(0.05 * s)))
        draw.polygon(_flat(np.concatenate([p[31:36], p[30:31]])), fill=self.skin[0])
        for q in (p[32], p[34]):
            r = 0.03 * s
            draw.ellipse([q[0] - r, q[1] - r * 0.6, q[0] + r, q[1] + r * 0.6], fill=(40, 25, 25))
        # Mouth: lips, the dark inside, and the upper teeth when it is open.
        draw.polygon(_flat(p[48:60]), fill=self.id.lips)
        inner = p[60:68]
        draw.polygon(_flat(inner), fill=(55, 18, 22))
        opening = float(np.mean(p[[67, 66, 65], 1] - p[[61, 62, 63], 1]))
        if opening > 2.0:
            band = min(0.35 * opening, 0.06 * s)
            teeth = np.concatenate([p[61:64], p[63:60:-1] + [0, band]])
            draw.polygon(_flat(teeth), fill=(225, 222, 210))
        draw.line(_flat(p[[48, 60, 61, 62, 63, 64, 54]]), fill=_rgb(self.id.lips, 0.55), width=1)
        if self.id.glasses:
            for eye in (p[EYE_L], p[EYE_R]):
                c, half = eye.mean(axis=0), 0.8 * (eye[3] - eye[0])
                up = np.array([half[1], -half[0]]) * 0.75
                frame = [c - half + up, c + half + up, c + half - up, c - half - up]
                draw.polygon(_flat(frame), outline=(25, 25, 30), width=max(1, round(0.04 * s)))
            draw.line(_flat([p[39], p[42]]), fill=(25, 25, 30), width=max(1, round(0.03 * s)))

    def _occluders(self, draw: ImageDraw.ImageDraw, p: np.ndarray, s: float, k: int):
        """Hands, mugs, phones sliding in from below, resting in front, sliding out."""
        for occ, colour in zip(self.scene.occluders, self.occluder_colour):
            if not occ.start <= k <= occ.stop:
                continue
            span = max(occ.stop - occ.start, 1)
            u = min((k - occ.start) / span, (occ.stop - k) / span) / 0.25
            u = min(u, 1.0)
            target = p[48:60].mean(axis=0) + [occ.side * 0.25 * s, 0.2 * s]
            start = np.array([target[0] + occ.side * 1.5 * s, self.h + 1.2 * s])
            x, y = start + u * (target - start)
            if occ.kind == "hand":
                draw.line([x, y, x + occ.side * 0.6 * s, self.h + s], fill=self.skin[1],
                          width=max(2, round(0.45 * s)))
                draw.ellipse([x - 0.3 * s, y - 0.2 * s, x + 0.3 * s, y + 0.45 * s],
                             fill=self.skin[2])
                for j in range(4):
                    fx = x + (j - 1.5) * 0.15 * s
                    draw.line([fx, y, fx - occ.side * 0.1 * s, y - 0.55 * s],
                              fill=self.skin[2], width=max(2, round(0.13 * s)))
            elif occ.kind == "mug":
                draw.rectangle([x - 0.3 * s, y - 0.1 * s, x + 0.3 * s, y + 0.75 * s],
                               fill=colour)
                draw.ellipse([x + 0.2 * s, y + 0.1 * s, x + 0.5 * s, y + 0.5 * s],
                             outline=colour, width=max(2, round(0.08 * s)))
            else:
                x += occ.side * 0.45 * s
                draw.rounded_rectangle([x - 0.22 * s, y - 0.7 * s, x + 0.22 * s, y + 0.2 * s],
                                       radius=0.06 * s, fill=(20, 20, 24))

    # -- the camera --------------------------------------------------------------------
    def frame(self, k: int, p: np.ndarray) -> np.ndarray:
        """Frame k (an (h, w, 3) uint8 array) of a face with projected points p (N, 2)."""
        sc, m = self.scene, self.margin
        ox, oy = np.clip(np.round(sc.pan[k]).astype(int), -m, m) + m
        bg = self.backgrounds[sc.background[k]][oy:oy + self.h, ox:ox + self.w]
        img = Image.fromarray(bg)
        draw = ImageDraw.Draw(img)
        s = float(sc.scale[k])
        self._body(draw, p, s)
        self._hair_back(draw, p, s)
        self._skin(draw, p, s, k)
        self._features(img, draw, p, s, k)
        self._occluders(draw, p, s, k)
        x = _soften(np.asarray(img, dtype=np.float32))  # optics; also hides aliasing
        a = sc.light_dir[k]
        side = 0.6 * sc.side_light
        gain = self.gx * (side * np.cos(a)) + self.gy * (side * np.sin(a))
        gain += 1.0
        gain *= sc.exposure[k]
        x *= gain[..., None]
        x *= self.colour
        if self.look.movie_grade:  # teal shadows, orange highlights
            lum = x[..., 0] + x[..., 1] + x[..., 2]
            lum *= 1 / 765
            lum -= 0.45
            x += lum[..., None] * np.array([28, 4, -30], np.float32)
        if self.look.motion_blur and k > 0:
            x = self._motion_blur(x, k)
        if sc.noise_sd > 0:
            x += self.noise[self.noise_order[k]]
        if self.look.movie_grade:
            x[:self.bars] = 0
            x[self.h - self.bars:] = 0
        out = np.clip(x, 0, 255, out=x).astype(np.uint8)
        if sc.lowres > 1:
            small = Image.fromarray(out).resize((self.w // sc.lowres, self.h // sc.lowres),
                                                Image.BILINEAR)
            out = np.asarray(small.resize((self.w, self.h), Image.BICUBIC))
        return out

    def _motion_blur(self, x: np.ndarray, k: int) -> np.ndarray:
        """Average of shifted copies along the face's motion when it moves fast."""
        sc = self.scene
        v = np.array([sc.cx[k] - sc.cx[k - 1] + sc.scale[k] * (sc.yaw[k] - sc.yaw[k - 1]),
                      sc.cy[k] - sc.cy[k - 1]])
        taps = int(min(np.abs(v).max(), 6))
        if taps < 2:
            return x
        acc = x.copy()
        for j in range(1, taps):
            dx, dy = np.round(v * j / taps).astype(int)
            acc += np.roll(x, (dy, dx), axis=(0, 1))
        return acc / taps
