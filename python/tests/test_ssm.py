"""The selective scan: ares.nn's integer semantics equal the C compiler's, bit for bit, and stay
close to the float scan; the export is one ares::SelectiveScan node.

Run: cd python && ../.venv/bin/python -m pytest tests/test_ssm.py
"""

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from ares.nn.mamba import SelectiveScan, scan_float
from ares.zoo import generate as gen

ARES = gen.repo_root() / "build" / "ares"


def _trained_scan(seed=0, d=6, n=4, direction=0):
    torch.manual_seed(seed)
    m = SelectiveScan(d, n, direction=direction)
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    for _ in range(4):
        x, dt = torch.randn(2, 12, d), torch.nn.functional.softplus(torch.randn(2, 12, d)) * 0.3
        loss = (m(x, dt, torch.randn(2, 12, n), torch.randn(2, 12, n)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return m.eval()


@pytest.mark.parametrize("direction", [0, 1])
def test_integer_scan_close_to_float(direction):
    """The fixed-point scan against the float recurrence on the same quantized inputs: within
    a couple of output LSBs (the decay's and the state's roundings)."""
    m = _trained_scan(direction=direction)
    g = torch.Generator().manual_seed(1)
    x, dt = torch.randn(1, 12, 6, generator=g), torch.nn.functional.softplus(torch.randn(1, 12, 6, generator=g)) * 0.3
    b, c = torch.randn(1, 12, 4, generator=g), torch.randn(1, 12, 4, generator=g)
    with torch.no_grad():
        yi = m(x, dt, b, c)
        yf = scan_float(m.x_quant(x).value, m.delta_quant(dt).value, m.b_quant(b).value, m.c_quant(c).value,
                        m.A_log, m.D, direction)
    s = float(m.out_quant.act_quant.scale())
    lsb = ((yi - yf.clamp(-128 * s, 127 * s)).abs() / s).max().item()
    assert lsb <= 2.0, lsb
    assert torch.equal(torch.round(yi / s) * s, yi)  # on the output grid


def test_export_is_one_node(tmp_path):
    m = _trained_scan()
    from brevitas.export import export_onnx_qcdq
    x = (torch.randn(1, 12, 6), torch.rand(1, 12, 6), torch.randn(1, 12, 4), torch.randn(1, 12, 4))
    export_onnx_qcdq(m, args=x, export_path=str(tmp_path / "s.onnx"), opset_version=13, dynamo=False)
    g = onnx.load(str(tmp_path / "s.onnx")).graph
    scans = [n for n in g.node if n.op_type == "SelectiveScan"]
    assert len(scans) == 1 and scans[0].domain == "ares"
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in scans[0].attribute}
    assert attrs == {"d_state": 4, "direction": 0}
    producers = {o: n for n in g.node for o in n.output}
    assert all(producers[i].op_type == "DequantizeLinear" for i in scans[0].input[:4])


def _layers(log: str, op: str):
    """(schedule index, name) of the layers of integer op `op` in an `ares run` table."""
    return [(int(m.group(1)), m.group(2)) for m in re.finditer(rf"^(\d+)\s+(\S+)\s+{op}\s", log, re.M)]


@pytest.mark.skipif(not ARES.exists(), reason="build/ares not built")
@pytest.mark.parametrize("name,module", [("mamba_ssm", "fwd"), ("mamba_ssm", "rev")])
def test_scan_bit_exact_with_compiler(name, module):
    """The Brevitas model's scan output (eval mode) equals the compiled qscan layer's output
    on the committed input, integer for integer."""
    model = gen.build_trained(name)
    x = np.load(gen.default_out_dir() / name / "input.npy")
    seen = {}
    mod = dict(model.named_modules())[module]
    h = mod.register_forward_hook(lambda m, i, o: seen.update(y=o, s=float(m.out_quant.act_quant.scale()),
                                                             zp=int(m.out_quant.act_quant.zero_point())))
    with torch.no_grad():
        model(torch.from_numpy(x))
    h.remove()
    ours = torch.round(seen["y"] / seen["s"]).to(torch.int64) + seen["zp"]
    with tempfile.TemporaryDirectory() as d:
        model_path = gen.default_out_dir() / name / gen.QCDQ_FILE
        r = subprocess.run([str(ARES), "run", str(model_path), "--keep", d], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        idx = [i for i, nm in _layers(r.stdout, "qscan") if nm.startswith(f"/{module}/")]
        assert len(idx) == 1, r.stdout
        chip = np.load(Path(d) / "layers" / f"layer_{idx[0]:03d}.npy").astype(np.int64)
    assert np.array_equal(chip, ours.numpy()), (chip - ours.numpy())
