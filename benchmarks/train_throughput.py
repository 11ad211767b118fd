"""Training throughput of AffWildNet (Table 8): frames/s and achieved TFLOP/s; asserts nothing.

    python benchmarks/train_throughput.py                      # accelerator: full width
    python benchmarks/train_throughput.py --cpu-small          # a CPU: small settings
    python benchmarks/train_throughput.py --bf16 --sizes 96 224 --batch 4 --seq-len 80

AffWildNet = VGG-Face conv part (Table 7 blocks 1-5) + FC 4096 (with the 136 landmark values)
+ 2 x GRU 128 + 2 linear outputs, trained with the CCC loss (Eq. 3) and Adam on sequences of
``--seq-len`` frames (80 in the paper). Measured on the Keras backend in use
(``KERAS_BACKEND``), optionally with the ``mixed_bfloat16`` policy, and beside it the same
network in PyTorch (bf16 autocast; eager and ``torch.compile``) when torch is importable.

FLOPs are counted analytically (a multiply-add = 2 FLOPs): convolutions, dense layers and the
GRU's matrix products, per frame; a training step counts 3x the forward pass (backward ~ 2x).
Pooling, activations, the loss and the optimizer are left out.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from affwild_lib.models.heads import N_LANDMARKS, scaled
from affwild_lib.models.vgg import TABLE_7_BLOCKS

FC_UNITS, RNN_UNITS, RNN_LAYERS = 4096, 128, 2


# --------------------------------------------------------------------------------------------
# FLOPs


def forward_flops_per_frame(size: int, width: float = 1.0) -> dict[str, float]:
    """Forward FLOPs of one frame, by part: conv (3x3, same padding), fc1, gru, head."""
    conv, h, c_in = 0.0, size, 3
    for channels, n_convs in TABLE_7_BLOCKS:
        c = scaled(channels, width)
        for _ in range(n_convs):
            conv += 2 * h * h * 9 * c_in * c
            c_in = c
        h //= 2
    fc_in = h * h * c_in + 2 * N_LANDMARKS
    fc = scaled(FC_UNITS, width)
    units = scaled(RNN_UNITS, width)
    gru, rnn_in = 0.0, fc
    for _ in range(RNN_LAYERS):  # 3 gates, input and recurrent products
        gru += 2 * 3 * (rnn_in * units + units * units)
        rnn_in = units
    return {"conv": conv, "fc1": 2.0 * fc_in * fc, "gru": gru, "head": 2.0 * units * 2}


def train_flops_per_frame(size: int, width: float = 1.0) -> float:
    return 3.0 * sum(forward_flops_per_frame(size, width).values())


def _data(batch, seq_len, size, seed=0):
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (batch, seq_len, size, size, 3)).astype(np.uint8)  # as the store's
    points = rng.uniform(0, 1, (batch, seq_len, N_LANDMARKS, 2)).astype(np.float32)
    labels = rng.uniform(-1, 1, (batch, seq_len, 2)).astype(np.float32)
    return frames, points, labels


def _report(label, size, frames_per_step, seconds, steps, width):
    fps = frames_per_step * steps / seconds
    tflops = fps * train_flops_per_frame(size, width) / 1e12
    print(f"{label:<38} {size:>4}  {fps:>10.1f} frames/s  {tflops:>8.3f} TFLOP/s  "
          f"({seconds / steps * 1e3:.0f} ms/step)", flush=True)
    return fps, tflops


# --------------------------------------------------------------------------------------------
# Keras


def bench_keras(size, args):
    import keras

    from affwild_lib.losses import CCCLoss
    from affwild_lib.models import build

    keras.mixed_precision.set_global_policy("mixed_bfloat16" if args.bf16 else "float32")
    model = build("cnn_rnn", input_size=size, seq_len=args.seq_len, width=args.width)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=CCCLoss())
    frames, points, labels = _data(args.batch, args.seq_len, size)
    for _ in range(args.warmup):  # compilation
        model.train_on_batch((frames, points), labels)
    started = time.perf_counter()
    for _ in range(args.steps):
        loss = model.train_on_batch((frames, points), labels)
    float(np.asarray(loss))  # wait for the device
    seconds = time.perf_counter() - started
    return _report(_label_keras(args), size, args.batch * args.seq_len, seconds, args.steps, args.width)


def _label_keras(args) -> str:
    import keras

    return f"keras/{keras.backend.backend()}" + (" mixed_bf16" if args.bf16 else " fp32")


# --------------------------------------------------------------------------------------------
# PyTorch reference


def torch_model(size, width):
    import torch
    from torch import nn

    class AffWildNet(nn.Module):
        def __init__(self):
            super().__init__()
            convs, c_in, h = [], 3, size
            for channels, n_convs in TABLE_7_BLOCKS:
                for _ in range(n_convs):
                    convs += [nn.Conv2d(c_in, scaled(channels, width), 3, padding=1), nn.ReLU()]
                    c_in = scaled(channels, width)
                convs.append(nn.MaxPool2d(2, 2))
                h //= 2
            self.conv = nn.Sequential(*convs)
            self.fc1 = nn.Linear(h * h * c_in + 2 * N_LANDMARKS, scaled(FC_UNITS, width))
            self.drop = nn.Dropout(0.5)
            self.gru = nn.GRU(scaled(FC_UNITS, width), scaled(RNN_UNITS, width), RNN_LAYERS,
                              batch_first=True, dropout=0.5)
            self.head = nn.Linear(scaled(RNN_UNITS, width), 2)

        def forward(self, frames, points):  # frames (B, T, 3, H, W), points (B, T, 68, 2)
            b, t = frames.shape[:2]
            x = self.conv(frames.flatten(0, 1)).permute(0, 2, 3, 1).flatten(1)  # NHWC order
            x = torch.cat([x.view(b, t, -1), points.flatten(2)], dim=-1)
            x = self.drop(torch.relu(self.fc1(x)))
            return self.head(self.gru(x)[0])

    return AffWildNet()


def torch_ccc_loss(y, p):
    import torch

    y, p = y.reshape(-1, 2).float(), p.reshape(-1, 2).float()
    my, mp = y.mean(0), p.mean(0)
    cov = ((y - my) * (p - mp)).mean(0)
    rho = 2 * cov / (y.var(0, unbiased=False) + p.var(0, unbiased=False) + (my - mp) ** 2 + 1e-8)
    return torch.mean(1 - rho)


def bench_torch(size, args, compiled: bool):
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = torch_model(size, args.width).to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    frames, points, labels = (torch.from_numpy(a).to(device) for a in _data(args.batch, args.seq_len, size))
    frames = frames.permute(0, 1, 4, 2, 3).contiguous()

    def step():  # uint8 crops normalised on the device, as our models' pixels layer does
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device, dtype=torch.bfloat16):
            x = frames.float() * (1.0 / 127.5) - 1.0
            loss = torch_ccc_loss(labels, model(x, points))
        loss.backward()
        optimizer.step()
        return loss

    fn = torch.compile(step) if compiled else step
    for _ in range(args.warmup):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(args.steps):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    label = f"torch/{device} bf16 autocast " + ("compiled" if compiled else "eager")
    return _report(label, size, args.batch * args.seq_len, seconds, args.steps, args.width)


# --------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[96, 224])
    parser.add_argument("--batch", type=int, default=4, help="sequences per step")
    parser.add_argument("--seq-len", type=int, default=80)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--bf16", action="store_true", help="Keras mixed_bfloat16 policy")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--cpu-small", action="store_true",
                        help="CPU settings: width 1/8, 2 sequences of 8 frames, 3 steps")
    args = parser.parse_args(argv)
    if args.cpu_small:
        args.width, args.batch, args.seq_len, args.steps, args.warmup = 0.125, 2, 8, 3, 1

    print(f"AffWildNet, width {args.width}, batch {args.batch} x {args.seq_len} frames, "
          f"{args.steps} timed steps after {args.warmup} warm-up")
    for size in args.sizes:
        parts = forward_flops_per_frame(size, args.width)
        print(f"  {size}x{size}: forward GFLOP/frame " + ", ".join(
            f"{k} {v / 1e9:.4f}" for k, v in parts.items())
            + f"; training {train_flops_per_frame(size, args.width) / 1e9:.4f}")
    rows = []

    def record(label, size, result):
        fps, tflops = result
        rows.append({"run": label, "size": size, "frames_per_s": round(fps, 1), "tflops": round(tflops, 3)})

    for size in args.sizes:
        record(_label_keras(args), size, bench_keras(size, args))
    try:
        import torch  # noqa: F401
    except ImportError:
        torch = None
        print("torch not installed: the PyTorch reference is skipped")
    if torch is not None and not args.no_torch:
        for size in args.sizes:
            for compiled in (False, True):
                record(f"torch {'compiled' if compiled else 'eager'}", size, bench_torch(size, args, compiled))
    if args.json:
        from pathlib import Path

        Path(args.json).write_text(json.dumps({
            "settings": {"width": args.width, "batch": args.batch, "seq_len": args.seq_len,
                         "steps": args.steps, "warmup": args.warmup, "bf16": args.bf16},
            "train_gflop_per_frame": {str(size): round(train_flops_per_frame(size, args.width) / 1e9, 4)
                                      for size in args.sizes},
            "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
