"""ares.nn, ares.export, ares.deploy and the C tool's errors reaching Python."""

import os
import stat
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

import ares
from ares import nn as an
from ares import tool

ROOT = Path(__file__).resolve().parents[2]
MALFORMED = ROOT / "tests" / "malformed"


class Small(torch.nn.Module):
    """Every ares.nn layer kind once, 2-D."""

    def __init__(self):
        super().__init__()
        self.inp = an.QuantIdentity()
        self.conv = an.Conv2d(2, 4, 3, padding=1)
        self.relu = an.ReLU(bit_width=6)
        self.res = an.ResidualBlock(4, 4)
        self.pool = an.MaxPool2d(2)
        self.b1 = torch.nn.Sequential(an.Conv2d(4, 2, 1, per_channel=False), an.ReLU())
        self.b2 = torch.nn.Sequential(an.Conv2d(4, 3, 3, padding=1), an.QuantIdentity(4))
        self.cat = an.Cat()
        self.avg = an.AvgPool2d(2, signed=True)
        self.add_conv = an.Conv2d(5, 5, 1)
        self.add = an.Add()
        self.gap = an.AdaptiveAvgPool2d(1)
        self.flat = an.Flatten()
        self.fc = an.Linear(5, 3)
        self.out = an.QuantIdentity()

    def forward(self, x):
        x = self.pool(self.res(self.relu(self.conv(self.inp(x)))))
        x = self.avg(self.cat([self.b1(x), self.b2(x)]))
        x = self.add(self.add_conv(x), x)
        return self.out(self.fc(self.flat(self.gap(x))))


def _trained(model, shape, steps=3):
    torch.manual_seed(0)
    model.train()
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        model(torch.randn((4,) + tuple(shape[1:]), generator=g))
    return model.eval()


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    m = _trained(Small(), (1, 2, 8, 8))
    x = np.random.default_rng(0).standard_normal((1, 2, 8, 8)).astype(np.float32)
    return m, x


# ----------------------------------------------------------------------------------------------
# ares.nn


def test_nn_rejects_what_ares_cannot_compile():
    for bad in (1, 9, 16, 4.0):
        with pytest.raises(ValueError, match="from 2 to 8"):
            an.ReLU(bad)
        with pytest.raises(ValueError, match="from 2 to 8"):
            an.Conv2d(1, 1, 1, weight_bit_width=bad)
    with pytest.raises(ValueError, match="batch"):
        an.Flatten(0)
    with pytest.raises(ValueError, match="odd"):
        an.ResidualBlock(2, 2, kernel_size=2)
    with pytest.raises(ValueError, match="brevitas.nn directly"):
        an.Conv2d(1, 1, 1, weight_quant=None)


def test_nn_defaults():
    c = an.Conv2d(2, 4, 3)
    assert c.quant_weight().scale.numel() == 4  # per output channel
    assert an.Conv2d(2, 4, 3, per_channel=False).quant_weight().scale.numel() == 1
    assert int(c.quant_weight().bit_width) == 8
    assert int(an.Linear(3, 2, weight_bit_width=3).quant_weight().bit_width) == 3
    r = an.ReLU(bit_width=5, return_quant_tensor=True)
    y = r(torch.randn(2, 3))
    assert not bool(y.signed) and int(y.bit_width) == 5
    q = an.QuantIdentity(bit_width=2, signed=True, return_quant_tensor=True)(torch.randn(9))
    assert bool(q.signed) and int(q.bit_width) == 2


def test_small_model_exports_both_dialects(small, tmp_path):
    model, x = small
    r = ares.export(model, x, tmp_path / "model.onnx")
    assert r.dialect == "qcdq" and r.path.exists()
    assert np.array_equal(np.load(tmp_path / "input.npy"), x)
    y = np.load(tmp_path / "brevitas_output.npy")
    assert y.shape == (1, 3)
    assert r.agreement["max_lsb"] <= 1.0 and r.agreement["lsb"] > 0
    ops = {n.op_type for n in onnx.load(str(r.path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv", "Concat", "Add", "MaxPool",
            "AveragePool", "GlobalAveragePool", "Gemm"} <= ops
    q = ares.export(model, x, tmp_path / "model.qonnx.onnx", "qonnx")
    assert q.ort_output_path is None and q.agreement == {}
    qops = {(n.domain, n.op_type) for n in onnx.load(str(q.path)).graph.node}
    assert ("qonnx.custom_op.general", "Quant") in qops
    # both compile and validate through the C tool directly, too
    for p in (r.path, q.path):
        out = tool.run_tool(["run", str(p)])
        assert "all layers match the reference bit for bit" in out.stdout


def test_export_check_catches_a_graph_that_differs(small, tmp_path, monkeypatch):
    from ares.zoo import generate as gen
    model, x = small
    real = gen.ort_run
    monkeypatch.setattr(gen, "ort_run", lambda p, x: real(p, x) * 1.5)
    with pytest.raises(ares.ExportError, match="differs from the PyTorch model"):
        ares.export(model, x, tmp_path / "model.onnx")
    r = ares.export(model, x, tmp_path / "model.onnx", check=False)  # reported, not raised
    assert r.agreement["max_lsb"] > 1


def test_export_needs_a_batch_dimension(small, tmp_path):
    with pytest.raises(ValueError, match="batch"):
        ares.export(small[0], np.zeros(4, np.float32), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="dialect"):
        ares.export(small[0], small[1], tmp_path / "m.onnx", dialect="onnx")


# ----------------------------------------------------------------------------------------------
# ares.deploy


def test_deploy_host_validates_every_layer(small, tmp_path):
    model, x = small
    r = ares.deploy(model, x, target="host", out_dir=tmp_path)
    assert r.validated and r.all_match and not r.mismatches
    assert r.check_report is None or (r.check_report.compiles and len(r.check_report.nodes) > 20)
    assert (tmp_path / "host" / "network.c").exists()
    ops = [l.op for l in r.layers]
    assert ops[0] == "quantize" and ops[-1] == "dequantize"
    assert {"qconv", "qadd", "qmaxpool", "qconcat", "qavgpool", "qreshape", "qlinear"} <= set(ops)
    assert [l.index for l in r.layers] == list(range(len(r.layers)))
    assert r.layers[-1].shape == (1, 3)
    assert sum(l.macs for l in r.layers) == r.totals["total_macs"] > 0
    # the compiled network's output is ARES' reference output; the tool's own table agrees
    assert r.output.shape == (1, 3)
    direct = tool.run_tool(["run", str(r.model_path)])
    assert tool.parse_layer_table(direct.stdout)[0] == r.layers
    assert f"all {len(r.layers)} layers bit-exact" in str(r)
    assert "qconcat" in r.table()
    # a second deploy into the same directory replaces its own project
    assert ares.deploy(model, x, target="host", out_dir=tmp_path).all_match


@pytest.mark.parametrize("target", ["gap9", "siracusa"])
def test_deploy_to_a_chip_target_compiles_or_says_why_not(small, tmp_path, target):
    """A chip target cannot run here: deploy compiles its project and does not validate,
    or, when this build of the tool has no emitter for it, raises the tool's message."""
    model, x = small
    ares.export(model, x, tmp_path / "ref" / "model.onnx")
    direct = subprocess.run([str(tool.ares_binary()), "compile", str(tmp_path / "ref/model.onnx"),
                             "--target", target, "-o", str(tmp_path / "ref" / target)],
                            capture_output=True, text=True)
    if direct.returncode != 0:
        with pytest.raises(ares.UnsupportedTargetError) as ei:
            ares.deploy(model, x, target=target, out_dir=tmp_path / "o")
        assert f"ares: error: {ei.value}" == direct.stderr.strip()
        assert "has no emitter yet" in str(ei.value)
        assert not (tmp_path / "o" / target).exists()  # no partial project
        return
    r = ares.deploy(model, x, target=target, out_dir=tmp_path / "o")
    assert not r.validated and not r.all_match and r.layers == []
    made = sorted(p.name for p in (tmp_path / "o" / target).iterdir())
    assert made == sorted(p.name for p in (tmp_path / "ref" / target).iterdir())
    assert "network.c" in made and "Makefile" in made
    assert (tmp_path / "o" / target / "network.c").read_text() == \
        (tmp_path / "ref" / target / "network.c").read_text()


def test_no_emitter_becomes_unsupported_target_error(small, tmp_path, monkeypatch):
    msg = "unsupported: target 'gap9' has no emitter yet (use --target host)"
    fake = _fake_tool(tmp_path, f"""
if [ "$1" = compile ]; then echo "ares: error: {msg}" >&2; exit 2; fi""")
    monkeypatch.setenv("ARES_BIN", str(fake))
    with pytest.raises(ares.UnsupportedTargetError) as ei:
        ares.deploy(small[0], small[1], target="gap9", out_dir=tmp_path / "o")
    assert str(ei.value) == msg and ei.value.returncode == 2
    assert isinstance(ei.value, ares.AresError)


class FloatConvFirst(torch.nn.Module):
    """A conv on the float input: no quantizer before it."""

    def __init__(self):
        super().__init__()
        self.conv = an.Conv2d(1, 2, 3)
        self.out = an.QuantIdentity()

    def forward(self, x):
        return self.out(self.conv(x))


class FloatOpInside(torch.nn.Module):
    """A float op ARES has no integer form for (sine) between quantized layers."""

    def __init__(self):
        super().__init__()
        self.inp = an.QuantIdentity()
        self.conv = an.Conv2d(1, 2, 3)
        self.q0 = an.QuantIdentity()
        self.q = an.QuantIdentity()
        self.conv2 = an.Conv2d(2, 2, 1)

    def forward(self, x):
        return self.conv2(self.q(torch.sin(self.q0(self.conv(self.inp(x))))))


def test_deploy_unsupported_layer_names_node_op_and_advice(tmp_path):
    x = np.ones((1, 1, 6, 6), np.float32)
    m = _trained(FloatConvFirst(), x.shape)
    with pytest.raises(ares.AresError) as ei:
        ares.deploy(m, x, target="host", out_dir=tmp_path / "a")
    e = ei.value
    assert e.node == "/conv/Conv" and e.op == "Conv"
    assert "is not quantized" in e.reason and "QuantIdentity" in str(e)
    assert str(e).startswith("node '/conv/Conv' (Conv): unsupported:")
    if ares.has_check():  # `ares check` refuses it first, with its advice
        assert e.returncode == 1 and e.command[1] == "check"
        assert "advice:" in str(e) and "quantizer" in e.advice
    else:
        assert e.returncode == 2 and e.command[1] == "compile"
    assert not (tmp_path / "a" / "host").exists()

    m = _trained(FloatOpInside(), x.shape)
    with pytest.raises(ares.AresError) as ei:
        ares.deploy(m, x, target="host", out_dir=tmp_path / "b")
    assert ei.value.op == "Sin" and "Sin" in str(ei.value)


# ----------------------------------------------------------------------------------------------
# the tool interface


def test_errors_carry_the_tools_message(tmp_path):
    model = MALFORMED / "unsupported_op.onnx"
    direct = subprocess.run([str(tool.ares_binary()), "compile", str(model), "-o",
                             str(tmp_path / "o")], capture_output=True, text=True)
    with pytest.raises(ares.AresError) as ei:
        ares.compile_model(model, tmp_path / "o")
    e = ei.value
    assert direct.stderr.strip() == f"ares: error: {e}"
    assert (e.node, e.op) == ("upsample0", "ConvTranspose")
    assert e.reason.startswith("unsupported: operator ConvTranspose")
    assert e.advice == "see docs/SUPPORTED_OPERATIONS.md"
    with pytest.raises(ares.AresError, match="is empty"):
        ares.compile_model(MALFORMED / "empty.onnx", tmp_path / "o")


def test_parse_diagnostics():
    d = tool.parse_diagnostics(
        "ares: error: node 'a b' (Conv): unsupported: x (put (a) quantizer)\n"
        "noise\n"
        "ares: warning: node 'cat' (Concat): inputs have different scales\n"
        "ares: error: 'm.onnx' is empty\n")
    assert [x.level for x in d] == ["error", "warning", "error"]
    assert (d[0].node, d[0].op, d[0].reason, d[0].advice) == \
        ("a b", "Conv", "unsupported: x", "put (a) quantizer")
    assert d[1].advice is None and d[1].reason == "inputs have different scales"
    assert d[2].node is None and d[2].message == "'m.onnx' is empty"


def test_parse_layer_table_reads_every_row():
    out = tool.run_tool(["run", str(ROOT / "tests/zoo/simplecnn/model.onnx")]).stdout
    layers, totals = tool.parse_layer_table(out)
    rows = [l for l in out.splitlines() if l[:1].isdigit()]
    assert len(layers) == len(rows) > 5 and all(l.match for l in layers)
    assert layers[0].op == "quantize" and layers[0].shape == (1, 3, 16, 16)
    assert totals["total_macs"] == sum(l.macs for l in layers)
    txt = ("layer name op output MACs tile  match\n"
           "0     a                                        qadd                                  0  ok\n"
           "1     b c                                      qconv        1x2x3               12 8x4 x1  MISMATCH 3/6\n"
           "2     d                                        qconv        1x2x3               12 L2 (o)  MISSING (no file)\n")
    ls, _ = tool.parse_layer_table(txt)
    assert ls[0].shape == () and ls[1].name == "b c" and not ls[1].match
    assert ls[1].verdict == "MISMATCH 3/6" and ls[1].shape == (1, 2, 3)
    assert ls[1].extra == "8x4 x1" and ls[2].extra == "L2 (o)" and not ls[2].match


def _fake_tool(tmp_path, body):
    """An ARES_BIN wrapper script: `body` (sh) runs first, then the real tool."""
    p = tmp_path / "fake_ares"
    p.write_text(f"#!/bin/sh\n{body}\nexec '{tool.ares_binary()}' \"$@\"\n")
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return p


def test_deploy_uses_ares_check_when_the_tool_has_it(small, tmp_path, monkeypatch):
    fake = _fake_tool(tmp_path, """
if [ "$1" = check ] && [ "$2" = --help ]; then echo 'usage: ares check MODEL'; exit 0; fi
if [ "$1" = check ]; then
  echo "$2: graph 'main_graph', opset 13, 2 nodes"
  echo "node                             op                   status      detail"
  echo "/conv/Conv                       Conv                 ok          qconv"
  echo "/fc/Gemm                         Gemm                 UNSUPPORTED unsupported: pretend (no)"
  echo "                                                                  advice: use something else"
  echo "summary: 2 nodes: 1 ok, 0 warning, 1 unsupported, 0 blocked, 0 unchecked; the model does not compile"
  exit 1
fi""")
    monkeypatch.setenv("ARES_BIN", str(fake))
    model, x = small
    with pytest.raises(ares.AresError) as ei:
        ares.deploy(model, x, target="host", out_dir=tmp_path / "o")
    assert ei.value.command[1] == "check" and ei.value.returncode == 1
    e = ei.value
    assert str(e).splitlines() == [
        "node '/fc/Gemm' (Gemm): unsupported: pretend (no)", "  advice: use something else",
        "summary: 2 nodes: 1 ok, 0 warning, 1 unsupported, 0 blocked, 0 unchecked; the model "
        "does not compile"]
    assert (e.node, e.op, e.reason, e.advice) == ("/fc/Gemm", "Gemm", "unsupported: pretend",
                                                  "use something else")
    assert not (tmp_path / "o" / "host").exists()  # nothing compiled after a failed check


def test_deploy_reports_a_mismatch(small, tmp_path, monkeypatch):
    fake = _fake_tool(tmp_path, """
if [ "$1" = run ]; then
  echo 'layer name                                     op           output                   MACs  match'
  echo '0     in                                       quantize     1x2                         0  ok'
  echo '1     /conv/Conv                               qconv        1x2                        16  MISMATCH 1/2'
  echo "ares: first mismatching layer: 1 '/conv/Conv' (qconv): 1 of 2 elements differ" >&2
  exit 1
fi""")
    monkeypatch.setenv("ARES_BIN", str(fake))
    model, x = small
    with pytest.raises(ares.ValidationError) as ei:
        ares.deploy(model, x, target="host", out_dir=tmp_path / "o")
    e = ei.value
    assert str(e) == "first mismatching layer: 1 '/conv/Conv' (qconv): 1 of 2 elements differ"
    assert not e.result.all_match and [l.name for l in e.result.mismatches] == ["/conv/Conv"]
    r = ares.deploy(model, x, target="host", out_dir=tmp_path / "o", raise_on_mismatch=False)
    assert r.validated and not r.all_match and "MISMATCH 1/2" in r.table()


def test_missing_binary_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ARES_BIN", str(tmp_path / "nope"))
    with pytest.raises(ares.AresError, match="not found.*make"):
        tool.ares_binary()


def test_check_report_of_the_real_tool():
    if not ares.has_check():
        pytest.skip("this build of the tool has no `ares check` yet")
    r = ares.check_model(ROOT / "tests/zoo/tinycnn/model.onnx")
    assert r.compiles and not r.unsupported and r.summary.startswith("summary:")
    g = onnx.load(str(ROOT / "tests/zoo/tinycnn/model.onnx")).graph
    assert [n.name for n in r.nodes] == [n.name for n in g.node]
    assert [n.op for n in r.nodes] == [n.op_type for n in g.node]
    assert {n.status for n in r.nodes} == {"ok"}
    w = ares.check_model(ROOT / "tests/zoo/densenet_concat/model.onnx")
    assert w.compiles and w.warnings and all(n.op == "Concat" for n in w.warnings)
    with pytest.raises(ares.AresError) as ei:
        ares.check_model(ROOT / "tests/malformed/acc_overflow.onnx")
    e = ei.value
    assert (e.node, e.op) == ("fc", "Gemm") and "range proof failed" in str(e)
    assert e.returncode == 1 and "the model does not compile" in str(e)
