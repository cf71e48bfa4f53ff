"""Attention masks: ares.nn's causal self-attention is causal in torch and in the compiled
network (a later token never changes an earlier output), the zoo's causal llama_minimal
too, and masks ARES cannot compute exactly are refused with the reason
(docs/SEMANTICS.md §5.12)."""

import numpy as np
import pytest
import torch

import ares
from ares import nn as ann
from ares import tool
from ares.nn.layers import _value
from ares.zoo import generate as gen

SEQ, DIM = 6, 16


def _attention(causal):
    """QuantIdentity + 2-head self-attention, quantizers calibrated on random inputs."""
    torch.manual_seed(0)
    m = torch.nn.Sequential(ann.QuantIdentity(), ann.MultiHeadSelfAttention(DIM, 2, causal=causal))
    m.train()
    with torch.no_grad():
        for _ in range(8):
            m(torch.randn(4, SEQ, DIM))
    return m.eval()


def _inputs():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, SEQ, DIM, generator=g)
    x2 = x.clone()
    x2[:, -1] = torch.randn(DIM, generator=g) * 2
    return x, x2


@pytest.mark.parametrize("causal", [True, False])
def test_causal_attention_in_torch(causal):
    m = _attention(causal)
    x, x2 = _inputs()
    with torch.no_grad():
        y, y2 = _value(m(x)), _value(m(x2))
    assert not torch.equal(y[:, -1], y2[:, -1])  # the changed token's own output moves
    # causal: earlier positions exactly unchanged; without the mask they see the new token
    assert torch.equal(y[:, :-1], y2[:, :-1]) == causal


def test_causal_attention_compiled(tmp_path):
    m = _attention(True)
    x, x2 = _inputs()
    r1 = ares.deploy(m, x, target="host", out_dir=tmp_path / "a")
    r2 = ares.deploy(m, x2, target="host", out_dir=tmp_path / "b")
    assert r1.all_match and r2.all_match
    assert "qsoftmax" in [l.op for l in r1.layers]
    # ares check: the mask's Where is supported (folded into the qsoftmax)
    where = [n for n in r1.check_report.nodes if n.op == "Where"]
    assert len(where) == 1 and where[0].status == "ok" and "folded" in where[0].detail
    assert np.array_equal(r1.output[:, :-1], r2.output[:, :-1])
    assert not np.array_equal(r1.output[:, -1], r2.output[:, -1])
    # and the compiled network computes what the Brevitas model does
    assert np.array_equal(r1.output, np.load(tmp_path / "a" / "brevitas_output.npy"))


def test_llama_minimal_is_causal(tmp_path):
    """The committed zoo decoder: logits of positions 0..6 do not depend on token 7."""
    model = gen.default_out_dir() / "llama_minimal" / "model.onnx"
    ids = np.load(model.parent / "input.npy")
    other = ids.copy()
    other[..., -1] = (other[..., -1] + 17) % 64
    outs = []
    for k, t in enumerate((ids, other)):
        np.save(tmp_path / f"in{k}.npy", t)
        tool.run_tool(["run", str(model), "--input", str(tmp_path / f"in{k}.npy"), "--output",
                       str(tmp_path / f"out{k}.npy")])
        outs.append(np.load(tmp_path / f"out{k}.npy"))
    assert np.array_equal(outs[0][:, :-1], outs[1][:, :-1])
    assert not np.array_equal(outs[0][:, -1], outs[1][:, -1])


class MaskedScores(torch.nn.Module):
    """softmax(q(x) + mask) or softmax(q(x).masked_fill(bool mask, fill)) over the last
    axis, quantized in and out."""

    def __init__(self, add=None, where=None, fill=float("-inf"), scale=None, scale_first=True):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.out = ann.QuantIdentity(signed=False)
        self.add, self.where, self.fill = add, where, fill
        self.scale, self.scale_first = scale, scale_first

    def forward(self, x):
        s = _value(self.inp(x))
        if self.scale is not None and self.scale_first:
            s = s * self.scale
        if self.add is not None:
            s = s + self.add
        if self.where is not None:
            s = s.masked_fill(self.where, self.fill)
        if self.scale is not None and not self.scale_first:
            s = s / self.scale
        return self.out(torch.softmax(s, dim=-1))


def _check(model, tmp_path):
    torch.manual_seed(2)
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(2, 4, 4))
    model.eval()
    return ares.deploy(model.eval(), torch.randn(2, 4, 4), target="host", out_dir=tmp_path)


def test_finite_masks(tmp_path):
    tri = torch.ones(4, 4, dtype=torch.bool).triu(1)
    # -1e4 is far below the scores' range: exactly a mask; -1 is not
    r = _check(MaskedScores(add=torch.zeros(4, 4).masked_fill(tri, -1e4)), tmp_path / "a")
    assert r.all_match and np.array_equal(r.output, np.load(tmp_path / "a" / "brevitas_output.npy"))
    with pytest.raises(ares.AresError, match="additive attention mask with finite values") as ei:
        _check(MaskedScores(add=torch.zeros(4, 4).masked_fill(tri, -1.0)), tmp_path / "b")
    # ares check names the mask's Add as the unsupported node
    assert [d.op for d in ei.value.errors] == ["Add"]
    with pytest.raises(ares.AresError, match="replaced by"):
        _check(MaskedScores(where=tri, fill=-2.0), tmp_path / "c")


def test_fully_masked_row_is_refused(tmp_path):
    """Float softmax of a fully masked row is NaN (Brevitas cannot even export it): export
    a row masked but for one key, then mask that key too in the file."""
    m = torch.zeros(4, 4, dtype=torch.bool)
    m[2, :3] = True
    model = MaskedScores(where=m)
    _check(model, tmp_path / "ok")
    import onnx
    from onnx import numpy_helper
    g = onnx.load(tmp_path / "ok" / "model.onnx")
    for i, t in enumerate(g.graph.initializer):
        a = numpy_helper.to_array(t)
        if a.dtype == np.bool_:
            a = a.copy()
            a[2] = True
            g.graph.initializer[i].CopyFrom(numpy_helper.from_array(a, t.name))
    onnx.save(g, tmp_path / "bad.onnx")
    with pytest.raises(ares.AresError, match="masks every element of softmax row 2"):
        ares.check_model(tmp_path / "bad.onnx")


def test_padding_mask_stored(tmp_path):
    """A non-triangular boolean mask (keys 1 and 3 masked for every query) compiles
    bit-exactly and equals the Brevitas model."""
    m = torch.zeros(4, 4, dtype=torch.bool)
    m[:, 1] = m[:, 3] = True
    r = _check(MaskedScores(where=m), tmp_path)
    assert r.all_match and np.array_equal(r.output, np.load(tmp_path / "brevitas_output.npy"))


@pytest.mark.parametrize("compare", ["Equal", "Less"])
def test_mask_built_in_the_graph_is_folded(tmp_path, compare):
    """A causal mask computed in the graph from constants (Trilu, Equal / Less, Not,
    Where), as an exporter that does not fold it writes: fold-constants evaluates it, and
    the compiled softmax equals ONNX Runtime's on the same file."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper as h, numpy_helper as nh
    n = 5
    c = lambda name, a: nh.from_array(np.asarray(a), name)  # noqa: E731
    inits = [c("ones", np.ones((n, n), np.float32)), c("k1", np.array(1, np.int64)),
             c("half", np.array(0.5 if compare == "Less" else 0.0, np.float32)),
             c("ninf", np.array(-np.inf, np.float32)), c("sx", np.array(0.05, np.float32)),
             c("zx", np.array(0, np.int8)), c("sy", np.array(1 / 256, np.float32)),
             c("zy", np.array(0, np.uint8))]
    nodes = [
        h.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
        h.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
        h.make_node("Trilu", ["ones", "k1"], ["later"], upper=1),  # 1 above the diagonal
        h.make_node(compare, ["later", "half"], ["keep"]),  # later == 0 / later < 0.5
        h.make_node("Not", ["keep"], ["masked"]),
        h.make_node("Where", ["masked", "ninf", "xd"], ["s"]),
        h.make_node("Softmax", ["s"], ["p"], axis=-1),
        h.make_node("QuantizeLinear", ["p", "sy", "zy"], ["pq"]),
        h.make_node("DequantizeLinear", ["pq", "sy", "zy"], ["y"]),
    ]
    g = h.make_graph(nodes, "mask", [h.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, n, n])],
                     [h.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, n, n])], inits)
    path = tmp_path / "model.onnx"
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 14)]), path)
    x = np.random.default_rng(3).normal(0, 2, (2, 3, n, n)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    tool.run_tool(["run", str(path), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")])
    got = np.load(tmp_path / "y.npy")
    assert np.all(got[..., np.triu_indices(n, 1)[0], np.triu_indices(n, 1)[1]] == 0)
    assert np.array_equal(got, want)


class ShapeMask(torch.nn.Module):
    """The mask made from the scores' size in forward and expanded over the batch, as user
    code often writes it: at opset 14 torch exports Shape -> Slice -> ConstantOfShape /
    Expand -> Trilu -> Where, which ARES evaluates once the shapes are known."""

    def __init__(self):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.out = ann.QuantIdentity(signed=False)

    def forward(self, x):
        s = _value(self.inp(x))
        later = torch.ones(s.shape[-2], s.shape[-1], dtype=torch.bool).triu(1).expand(s.shape)
        return self.out(torch.softmax(s.masked_fill(later, float("-inf")), dim=-1))


def test_mask_from_shape_at_opset14(tmp_path):
    import onnx
    import onnxruntime as ort
    torch.manual_seed(2)
    m = ShapeMask().train()
    with torch.no_grad():
        for _ in range(4):
            m(torch.randn(2, 4, 4))
    m.eval()
    x = torch.randn(2, 4, 4)
    path = tmp_path / "model.onnx"
    gen.export(m, x, path, "qcdq", opset=14)
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert "Trilu" in ops  # the mask is built in the graph, not folded by torch
    xs = x.numpy()
    np.save(tmp_path / "x.npy", xs)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: xs})[0]
    tool.run_tool(["run", str(path), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")])
    assert np.array_equal(np.load(tmp_path / "y.npy"), want)


@pytest.mark.parametrize("dtype", ["bool", "float"])
def test_run_time_mask_is_refused(tmp_path, dtype):
    """A mask that is a graph input (bool for Where, float for Add) is not a constant."""
    import onnx
    from onnx import TensorProto, helper as h, numpy_helper as nh
    c = lambda name, a: nh.from_array(np.asarray(a), name)  # noqa: E731
    inits = [c("ninf", np.array(-np.inf, np.float32)), c("sx", np.array(0.05, np.float32)),
             c("zx", np.array(0, np.int8)), c("sy", np.array(1 / 256, np.float32)), c("zy", np.array(0, np.uint8))]
    masking = (h.make_node("Where", ["m", "ninf", "xd"], ["s"]) if dtype == "bool" else
               h.make_node("Add", ["xd", "m"], ["s"]))
    nodes = [h.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
             h.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]), masking,
             h.make_node("Softmax", ["s"], ["p"], axis=-1),
             h.make_node("QuantizeLinear", ["p", "sy", "zy"], ["pq"]),
             h.make_node("DequantizeLinear", ["pq", "sy", "zy"], ["y"])]
    mt = TensorProto.BOOL if dtype == "bool" else TensorProto.FLOAT
    g = h.make_graph(nodes, "m", [h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 4]),
                                  h.make_tensor_value_info("m", mt, [4, 4])],
                     [h.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4])], inits)
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), tmp_path / "m.onnx")
    with pytest.raises(ares.AresError, match="run-time mask" if dtype == "bool" else "run-time attention mask"):
        ares.check_model(tmp_path / "m.onnx")


def test_brevitas_mha_key_padding_mask(tmp_path):
    """Brevitas' QuantMultiheadAttention with a constant key_padding_mask: the mask is built
    in the graph (ConstantOfShape, Equal, Where, Expand, Reshape, Cast) and scaled by
    baddbmm's beta (a float Mul of two constants), all folded; bit-exact and equal to
    Brevitas."""
    import brevitas.nn as qnn

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = qnn.QuantIdentity(return_quant_tensor=True)
            self.mha = qnn.QuantMultiheadAttention(16, 2, batch_first=True)
            self.out = qnn.QuantIdentity()
            kpm = torch.zeros(1, 8, dtype=torch.bool)
            kpm[:, 5:] = True
            self.register_buffer("kpm", kpm)

        def forward(self, x):
            x = self.inp(x)
            return self.out(self.mha(x, x, x, need_weights=False, key_padding_mask=self.kpm)[0])

    torch.manual_seed(0)
    m = M().train()
    with torch.no_grad():
        for _ in range(4):
            m(torch.randn(1, 8, 16))
    r = ares.deploy(m.eval(), torch.randn(1, 8, 16), target="host", out_dir=tmp_path)
    assert r.all_match and np.array_equal(r.output, np.load(tmp_path / "brevitas_output.npy"))


@pytest.mark.parametrize("scale_first", [True, False])
@pytest.mark.parametrize("form", ["add", "where"])
def test_mask_before_or_after_the_scale(tmp_path, scale_first, form):
    """softmax(mask(x * 0.7)) and softmax(mask(x) / 0.7): the scalar folds into the input
    scale either way (and multiplies a mask applied before it)."""
    tri = torch.ones(4, 4, dtype=torch.bool).triu(1)
    kw = {"add": torch.zeros(4, 4).masked_fill(tri, -1e4)} if form == "add" else {"where": tri}
    r = _check(MaskedScores(scale=0.7, scale_first=scale_first, **kw), tmp_path)
    assert r.all_match and np.array_equal(r.output, np.load(tmp_path / "brevitas_output.npy"))
    assert r.check_report.compiles and all(n.status == "ok" for n in r.check_report.nodes)
