#!/usr/bin/env python3
"""A small image classifier, from ares.nn blocks to bit-exact generated C.

    .venv/bin/python examples/cnn_classifier.py [--out DIR] [--steps N]

1. builds a CNN from ares.nn (conv, ReLU, max pool, a residual block, global average pool,
   linear classifier with a float output),
2. trains it for a few steps on synthetic 16x16 images of four patterns,
3. exports it (QCDQ and QONNX) and checks the export against the PyTorch model with ONNX
   Runtime,
4. compiles it for GAP9 (a GAP SDK project in DIR/gap9; a compiler without a GAP9
   emitter says so, and the script prints its message),
5. compiles it for the host, builds it, runs it and compares every layer with ARES'
   reference interpreter, bit for bit.

Exits 0 only when every layer matches.
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import _steps  # noqa: E402  (the steps both examples share: examples/_steps.py)
from ares import nn as qnn  # noqa: E402

CLASSES = ("horizontal", "vertical", "diagonal", "blob")


class SmallCNN(torch.nn.Module):

    def __init__(self, num_classes=len(CLASSES)):
        super().__init__()
        self.inp = qnn.QuantIdentity()  # the float input is quantized first
        self.conv1 = qnn.Conv2d(1, 8, 3, padding=1)
        self.relu1 = qnn.ReLU()
        self.pool1 = qnn.MaxPool2d(2)  # 16x16 -> 8x8, keeps the ReLU's quantization
        self.block = qnn.ResidualBlock(8, 16, stride=2)  # 8x8 -> 4x4, projection shortcut
        self.conv2 = qnn.Conv2d(16, 16, 3, padding=1, groups=16)  # depthwise
        self.relu2 = qnn.ReLU(bit_width=4)  # a 4-bit activation
        self.gap = qnn.AdaptiveAvgPool2d(1, signed=False)  # average of ReLU outputs: unsigned
        self.flat = qnn.Flatten()
        self.fc = qnn.Linear(16, num_classes)  # last layer: the float logits

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(self.inp(x))))
        x = self.relu2(self.conv2(self.block(x)))
        return self.fc(self.flat(self.gap(x)))


def synthetic_batch(n, gen):
    """n noisy 1x16x16 images of the four patterns, and their labels."""
    ys = torch.randint(0, len(CLASSES), (n,), generator=gen)
    i = torch.arange(16, dtype=torch.float32)
    r, c = i[:, None], i[None, :]
    phase = torch.rand(n, generator=gen) * 6.28
    xs = torch.empty(n, 1, 16, 16)
    for k in range(n):
        p = phase[k]
        if ys[k] == 0:
            img = torch.sin(r * 1.2 + p).expand(16, 16)
        elif ys[k] == 1:
            img = torch.sin(c * 1.2 + p).expand(16, 16)
        elif ys[k] == 2:
            img = torch.sin((r + c) * 0.9 + p)
        else:
            cy, cx = 4 + 8 * torch.rand(2, generator=gen)
            img = 2 * torch.exp(-((r - cy)**2 + (c - cx)**2) / 8) - 0.5
        xs[k, 0] = img + 0.3 * torch.randn(16, 16, generator=gen)
    return xs, ys


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("build/examples/cnn_classifier"),
                    help="output directory (default: %(default)s)")
    ap.add_argument("--steps", type=int, default=60, help="training steps")
    a = ap.parse_args(argv)

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = SmallCNN()

    xt, _ = _steps.train(model, synthetic_batch, a.steps, gen, "synthetic test images")
    return _steps.deploy(model, xt[:1], a.out, "class", CLASSES)  # batch 1


if __name__ == "__main__":
    sys.exit(main())
