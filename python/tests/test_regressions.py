"""Compiler failures the random-model test found, each as a minimal model in tests/models/.

Every model here is built only from ares.nn, exports cleanly, and agrees with ONNX Runtime;
`ares run` must pass it bit-exactly in both dialects. Models of gaps that are reported but
not fixed yet are marked xfail(strict=True) with the compiler's message: when the compiler
learns the pattern the test XPASSes, which fails the run — then drop the mark here and the
matching entry in random_models.known_gap.

The ONNX files are committed (the C tests need no PyTorch); regenerate them with

    cd python && ../.venv/bin/python tests/test_regressions.py --write
"""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ares  # noqa: E402

MODELS = Path(__file__).resolve().parents[2] / "tests" / "models"
DIALECT_FILES = {"qcdq": "{}.onnx", "qonnx": "{}.qonnx.onnx"}


def _builders():
    import torch
    from ares import nn as an

    class TwoBranchCat(torch.nn.Module):
        """Two conv+ReLU branches joined by ares.nn.Cat, then `tail`."""

        def __init__(self, tail):
            super().__init__()
            self.inp = an.QuantIdentity()
            self.a, self.ra = an.Conv2d(2, 2, 1), an.ReLU()
            self.b, self.rb = an.Conv2d(2, 2, 1), an.ReLU()
            self.cat = an.Cat()
            self.tail = tail

        def forward(self, x):
            x = self.inp(x)
            return self.tail(self.cat([self.ra(self.a(x)), self.rb(self.b(x))]))

    class ThenConv(torch.nn.Module):

        def __init__(self, first, cin):
            super().__init__()
            self.first, self.conv = first, an.Conv2d(cin, 2, 1)

        def forward(self, x):
            return self.conv(self.first(x))

    class AddToConv(torch.nn.Module):
        """y + ReLU(conv(y)): y is read by a conv and by Add's input quantizer."""

        def __init__(self):
            super().__init__()
            self.conv, self.relu, self.add = an.Conv2d(4, 4, 1), an.ReLU(), an.Add()

        def forward(self, y):
            return self.add(self.relu(self.conv(y)), y)

    class LinearNoBias(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.inp, self.flat = an.QuantIdentity(), an.Flatten()
            self.fc = an.Linear(8, 3, bias=False)

        def forward(self, x):
            return self.fc(self.flat(self.inp(x)))

    class DeadReLU(torch.nn.Module):
        """conv1's bias keeps its ReLU at 0 through calibration, so Brevitas gives that ReLU
        its minimum scale 1e-10; conv2's float bias is then ~1e11 accumulator units."""

        def __init__(self):
            super().__init__()
            self.inp = an.QuantIdentity()
            self.conv1, self.relu = an.Conv2d(1, 1, 1), an.ReLU()
            self.conv2, self.out = an.Conv2d(1, 2, 3, padding=1), an.QuantIdentity()
            with torch.no_grad():
                self.conv1.weight.fill_(0.01)
                self.conv1.bias.fill_(-100.0)

        def forward(self, x):
            return self.out(self.conv2(self.relu(self.conv1(self.inp(x)))))

    return {
        "dead_relu_bias": (DeadReLU, (1, 1, 4, 4)),
        "linear_nobias": (LinearNoBias, (1, 2, 2, 2)),
        "cat_maxpool": (lambda: TwoBranchCat(ThenConv(an.MaxPool2d(2), 4)), (1, 2, 4, 4)),
        "cat_relu": (lambda: TwoBranchCat(ThenConv(an.ReLU(), 4)), (1, 2, 4, 4)),
        "cat_add": (lambda: TwoBranchCat(AddToConv()), (1, 2, 4, 4)),
    }


# name -> (what it is, a fragment of the message `ares run` gives today; None once fixed)
CASES = {
    "dead_relu_bias": (
        "a float bias after an activation whose scale is Brevitas' minimum (1e-10, a ReLU "
        "that never fired in calibration): the bias does not fit int32 accumulator units",
        None),  # was "the accumulator of channel 0 with its bias can leave int32"; fixed
    "linear_nobias": (
        "ares.nn.Linear(bias=False): Brevitas exports Transpose(DequantizeLinear(W)) -> MatMul",
        None),  # was "(MatMul): unsupported: weight input 1 is not a constant"; fixed
    "cat_maxpool": (
        "MaxPool on the output of ares.nn.Cat (a Concat of DQs sharing one scale)",
        None),  # was "input '/tail/first/MaxPool_output_0' is not quantized"; fixed
    "cat_relu": (
        "ReLU (Relu -> Q) on the output of ares.nn.Cat",
        None),  # was "quantizes the float result of Relu"; fixed
    "cat_add": (
        "ares.nn.Cat output read by a Conv and by Add's shared input quantizer",
        None),  # was "quantizes the float result of DequantizeLinear '/cat/Concat'"; fixed
}


def _params():
    out = []
    for name, (what, known) in CASES.items():
        for dialect in DIALECT_FILES:
            marks = [pytest.mark.xfail(strict=True, reason=f"reported compiler gap: {known}")
                     ] if known else []
            out.append(pytest.param(name, dialect, marks=marks, id=f"{name}-{dialect}"))
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_known_message(name):
    """While a gap is open, the compiler refuses the model with the reported message (status
    2, not a crash or another error), in both dialects: the report stays accurate."""
    fragment = CASES[name][1]
    if fragment is None:
        pytest.skip("fixed")
    for f in DIALECT_FILES.values():
        r = ares.tool.run_tool(["run", str(MODELS / f.format(name)), "--input",
                                str(MODELS / f"{name}.input.npy")], check=False)
        assert r.returncode == 2, f"{f.format(name)}: exit {r.returncode}\n{r.stderr}"
        assert fragment in r.stderr, r.stderr


@pytest.mark.parametrize("name,dialect", _params())
def test_regression_model_is_bit_exact(name, dialect):
    model = MODELS / DIALECT_FILES[dialect].format(name)
    assert model.exists(), f"{model} missing: run tests/test_regressions.py --write"
    r = ares.tool.run_tool(["run", str(model), "--input", str(MODELS / f"{name}.input.npy")],
                           check=False)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "all layers match the reference bit for bit" in r.stdout


def write_models():
    """Rebuilds every model of CASES into tests/models/ (seeded; a few calibration steps)."""
    import numpy as np
    import torch
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    for name, (build, shape) in _builders().items():
        torch.manual_seed(0)
        model = build()
        model.train()
        g = torch.Generator().manual_seed(1)
        for _ in range(3):
            model(torch.randn((4,) + shape[1:], generator=g))
        model.eval()
        x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
        tmp = MODELS / f".{name}.tmp"
        for dialect, f in DIALECT_FILES.items():
            r = ares.export(model, x, tmp / "m.onnx", dialect)
            r.path.replace(MODELS / f.format(name))
        (tmp / "input.npy").replace(MODELS / f"{name}.input.npy")
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
        print("wrote", name)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_models()
    else:
        sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", __file__]))
