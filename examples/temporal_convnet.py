#!/usr/bin/env python3
"""A temporal convolutional network for multi-channel biosignals (EMG/EEG-like), from
ares.nn blocks to bit-exact generated C.

    .venv/bin/python examples/temporal_convnet.py [--out DIR] [--steps N]

The second pattern next to examples/cnn_classifier.py: 1-D data [batch, channels, time], a
strided stem, dilated residual blocks (the receptive field grows 1, 2, 4 samples per tap),
concatenated multi-scale branches, global average pooling over time and a linear classifier.

1. builds the model from ares.nn,
2. trains it for a few steps on synthetic 4-channel, 128-sample recordings of three
   "gestures" (a rhythm at 8, 20 or 35 cycles per window, each on its own subset of
   channels, buried in noise and drift),
3. exports it (QCDQ and QONNX), checking the export with ONNX Runtime,
4. compiles it for GAP9 (a GAP SDK project in DIR/gap9; a compiler without a GAP9
   emitter says so, and the script prints its message),
5. compiles, builds and runs it on the host and compares every layer with ARES' reference
   interpreter, bit for bit.

Exits 0 only when every layer matches.
"""

import argparse
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import _steps  # noqa: E402  (the steps both examples share: examples/_steps.py)
from ares import nn as qnn  # noqa: E402

CHANNELS, SAMPLES = 4, 128
GESTURES = ("rest-tremor", "grip", "pinch")
FREQS = (8.0, 20.0, 35.0)  # cycles per window
ACTIVE = ((0, 1), (1, 2, 3), (0, 3))  # channels carrying each gesture's rhythm


class MultiScale(torch.nn.Module):
    """Two branches with different kernels, concatenated at one shared scale (ares.nn.Cat)."""

    def __init__(self, cin, cout_each):
        super().__init__()
        self.short = torch.nn.Sequential(qnn.Conv1d(cin, cout_each, 3, padding=1), qnn.ReLU())
        self.long = torch.nn.Sequential(
            qnn.Conv1d(cin, cout_each, 7, padding=6, dilation=2), qnn.ReLU())
        self.cat = qnn.Cat()

    def forward(self, x):
        return self.cat([self.short(x), self.long(x)])


class TemporalConvNet(torch.nn.Module):

    def __init__(self, num_classes=len(GESTURES)):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.stem = qnn.Conv1d(CHANNELS, 16, 7, stride=2, padding=3)  # 128 -> 64 samples
        self.stem_relu = qnn.ReLU()
        self.res1 = qnn.ResidualBlock(16, 16, 3, dilation=1, dim=1)
        self.res2 = qnn.ResidualBlock(16, 16, 3, dilation=2, dim=1)
        self.res3 = qnn.ResidualBlock(16, 24, 3, stride=2, dilation=4, dim=1)  # -> 32
        self.pool = qnn.MaxPool1d(2)  # -> 16
        self.multi = MultiScale(24, 16)  # -> 32 channels
        self.gap = qnn.AdaptiveAvgPool1d(1, signed=True)
        self.flat = qnn.Flatten()
        self.fc = qnn.Linear(32, num_classes)

    def forward(self, x):
        x = self.stem_relu(self.stem(self.inp(x)))
        x = self.res3(self.res2(self.res1(x)))
        x = self.multi(self.pool(x))
        return self.fc(self.flat(self.gap(x)))


def synthetic_batch(n, gen):
    ys = torch.randint(0, len(GESTURES), (n,), generator=gen)
    t = torch.arange(SAMPLES, dtype=torch.float32) / SAMPLES
    xs = 0.5 * torch.randn(n, CHANNELS, SAMPLES, generator=gen)
    drift = torch.randn(n, CHANNELS, 1, generator=gen) * (t - 0.5)
    xs += drift
    for k in range(n):
        g = int(ys[k])
        phase = float(torch.rand(1, generator=gen)) * 2 * math.pi
        amp = 0.8 + 0.4 * float(torch.rand(1, generator=gen))
        for c in ACTIVE[g]:
            xs[k, c] += amp * torch.sin(2 * math.pi * FREQS[g] * t + phase + c)
    return xs, ys


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("build/examples/temporal_convnet"),
                    help="output directory (default: %(default)s)")
    ap.add_argument("--steps", type=int, default=40, help="training steps")
    a = ap.parse_args(argv)

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(2)
    model = TemporalConvNet()

    xt, _ = _steps.train(model, synthetic_batch, a.steps, gen, "synthetic recordings")
    return _steps.deploy(model, xt[:1], a.out, "gesture", GESTURES)  # batch 1


if __name__ == "__main__":
    sys.exit(main())
