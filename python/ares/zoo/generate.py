"""Build, briefly train, export and record one zoo network.

Everything is seeded from the network's name, runs single-threaded with deterministic torch
algorithms, and writes the same bytes every time on the same machine kind.
"""

import json
import os
import warnings
import zlib
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import onnx
import torch

from .nets import NETWORKS, Spec, _v

# Exporter settings (see README.md for why): the TorchScript back end (dynamo=False) at opset 13
# for both dialects is what the committed zoo uses. The dynamo back end (opset 18, the minimum
# Brevitas accepts for dynamo QCDQ) can be asked for to produce the other flavour of graph; it
# cannot export quantized biases (Int32Bias) to QCDQ.
BACKENDS = {"torchscript": {"dynamo": False, "opset": 13},
            "dynamo": {"dynamo": True, "opset": 18}}
BACKEND = "torchscript"
OPSET = BACKENDS[BACKEND]["opset"]

QCDQ_FILE = "model.onnx"
QONNX_FILE = "model.qonnx.onnx"


def repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def default_out_dir() -> Path:
    return repo_root() / "tests" / "zoo"


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def set_determinism():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False  # oneDNN picks kernels by CPU: results would differ
    if torch.backends.cpu.get_cpu_capability() != "DEFAULT":
        raise RuntimeError("ares.zoo: torch computed before ares.zoo was imported, so its CPU dispatch is "
                           f"{torch.backends.cpu.get_cpu_capability()}, not the portable DEFAULT; import "
                           "ares.zoo first or set ATEN_CPU_CAPABILITY=default and MKL_CBWR=COMPATIBLE")


# ----------------------------------------------------------------------------------------------
# training


def build_trained(name: str) -> torch.nn.Module:
    """The network, trained for spec.steps Adam steps to imitate a fixed random teacher on
    Gaussian inputs, then in eval mode. Activation scales come from Brevitas' runtime stats
    collection during those steps (BatchNorm running stats likewise)."""
    spec: Spec = NETWORKS[name]
    set_determinism()
    seed = seed_of(name)
    torch.manual_seed(seed)
    model = spec.build()
    gen = torch.Generator().manual_seed(seed + 1)
    in_dim = int(np.prod(spec.input_shape[1:]))
    hidden = 64
    r1 = torch.randn(in_dim, hidden, generator=gen) / in_dim**0.5
    r2 = None
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=spec.lr)
    for _ in range(spec.steps):
        shape = (spec.batch,) + tuple(spec.input_shape[1:])
        if spec.vocab:  # token ids; the teacher sees them as floats
            ids = torch.randint(0, spec.vocab, shape, generator=gen)
            y, x = _v(model(ids)), ids.float() / spec.vocab
        else:
            x = torch.randn(shape, generator=gen)
            y = _v(model(x))
        if r2 is None:
            out_dim = int(np.prod(y.shape[1:]))
            r2 = torch.randn(hidden, out_dim, generator=gen) * (2.0 / hidden**0.5)
        with torch.no_grad():
            t = (torch.tanh(x.reshape(spec.batch, -1) @ r1) @ r2).reshape(y.shape)
        if spec.classifier:
            loss = torch.nn.functional.cross_entropy(y, t.argmax(dim=1))
        else:
            loss = torch.nn.functional.mse_loss(y, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model


def example_input(name: str) -> np.ndarray:
    spec = NETWORKS[name]
    rng = np.random.default_rng(seed_of(name) + 2)
    if spec.vocab:
        return rng.integers(0, spec.vocab, spec.input_shape).astype(np.int64)
    return rng.standard_normal(spec.input_shape).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# export


def export(model, x: torch.Tensor, path: Path, dialect: str, backend: str = BACKEND,
           opset: Optional[int] = None):
    from brevitas.export import export_onnx_qcdq, export_qonnx
    fn = export_onnx_qcdq if dialect == "qcdq" else export_qonnx
    b = BACKENDS[backend]
    kw = {"optimize": True, "verbose": False} if b["dynamo"] else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(model, args=x, export_path=str(path), opset_version=opset or b["opset"],
           dynamo=b["dynamo"], **kw)


# What stands in for ONNX Runtime on graphs with ares-domain nodes (meta.json "ort_reference")
ARES_OPS_REFERENCE = ("onnx.reference.ReferenceEvaluator, ares::SelectiveScan as its float "
                      "semantics (ares.nn.mamba.scan_float)")


def uses_ares_ops(path: Path) -> bool:
    return any(n.domain == "ares" for n in onnx.load(str(path), load_external_data=False).graph.node)


def ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    """ONNX Runtime on the literal graph: graph optimizations off (no QDQ fusion into integer
    kernels, no constant folding), one thread. ONNX Runtime does not know the ares ops: such
    graphs run in onnx's reference evaluator with the ops' float semantics."""
    if uses_ares_ops(path):
        from onnx.reference import ReferenceEvaluator
        from onnx.reference.ops.op_dequantize_linear import DequantizeLinear_19
        from ..nn.mamba import ScanReferenceOp

        class DequantizeLinear(DequantizeLinear_19):  # opset 13's is opset 19's for int8/uint8
            op_domain = ""

            def _run(self, x, x_scale, x_zero_point=None, axis=1, block_size=0, output_dtype=None):
                return super()._run(x, x_scale, x_zero_point, axis)

        m = onnx.load(str(path))
        sess = ReferenceEvaluator(m, new_ops=[ScanReferenceOp(), DequantizeLinear])
        return np.asarray(sess.run(None, {m.graph.input[0].name: x})[0], dtype=np.float32)
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3  # "initializer appears in graph inputs" is expected here
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0].name
    return np.asarray(sess.run(None, {inp: x})[0], dtype=np.float32)


_PASS_THROUGH = {"Flatten", "Reshape", "Relu", "MaxPool", "Pad", "Transpose", "Identity"}


def _producer(g, name):
    for n in g.node:
        if name in n.output:
            return n
    return None


def _dq_scale(g, name) -> Optional[np.ndarray]:
    """Scale of the DequantizeLinear that `name` comes from, through pass-through ops."""
    inits = {t.name: t for t in g.initializer}
    n = _producer(g, name)
    while n is not None and n.op_type in _PASS_THROUGH:
        n = _producer(g, n.input[0])
    if n is None or n.op_type != "DequantizeLinear":
        return None
    return onnx.numpy_helper.to_array(inits[n.input[1]])


def output_scale(qcdq: onnx.ModelProto):
    """(quantized?, scale of one output LSB). A float output of Gemm/MatMul/Conv counts in
    units of its accumulator scale (input scale x weight scale, per-tensor only)."""
    g = qcdq.graph
    out = g.output[0].name
    n = _producer(g, out)
    if n.op_type == "DequantizeLinear" or (n.op_type in _PASS_THROUGH and _dq_scale(g, out) is not None):
        return True, float(_dq_scale(g, out))
    if n.op_type in ("Gemm", "Conv", "MatMul"):
        sa, sw = _dq_scale(g, n.input[0]), _dq_scale(g, n.input[1])
        if sa is not None and sw is not None and sa.size == 1 and sw.size == 1:
            return False, float(np.float32(sa) * np.float32(sw))
    if n.op_type == "Add":  # MatMul + Add bias
        m = _producer(g, n.input[0])
        if m is not None and m.op_type == "MatMul":
            sa, sw = _dq_scale(g, m.input[0]), _dq_scale(g, m.input[1])
            if sa is not None and sw is not None and sa.size == 1 and sw.size == 1:
                return False, float(np.float32(sa) * np.float32(sw))
    return False, None


def agreement(a: np.ndarray, b: np.ndarray, scale: Optional[float], classifier: bool) -> dict:
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    r = {
        "identical": float(np.mean(a == b)),
        "max_abs": float(d.max()),
    }
    if scale:
        lsb = d / scale
        r["max_lsb"] = float(lsb.max())
        r["within_1lsb"] = float(np.mean(lsb <= 1.0 + 1e-3))
    if classifier:
        r["top1_agree"] = bool(np.argmax(a.reshape(a.shape[0], -1), 1).tolist() ==
                               np.argmax(b.reshape(b.shape[0], -1), 1).tolist())
    return r


def generate(name: str, out_dir: Path, dialects: Iterable[str], dump=None,
             backend: str = BACKEND) -> dict:
    """Writes tests/zoo/<name>/ and returns the meta dict (with ORT-vs-Brevitas agreement)."""
    spec = NETWORKS[name]
    backend = spec.backend or backend  # a network that needs one exporter names it
    opset = spec.opset or BACKENDS[backend]["opset"]
    d = Path(out_dir) / name
    d.mkdir(parents=True, exist_ok=True)
    model = build_trained(name)
    x = example_input(name)
    with torch.no_grad():
        y = _v(model(torch.from_numpy(x))).detach().numpy().astype(np.float32)
    np.save(d / "input.npy", x)
    np.save(d / "brevitas_output.npy", y)
    dialects = list(dialects)
    errors = {}
    for dialect in ("qcdq", "qonnx"):
        if dialect not in dialects:
            continue
        path = d / (QCDQ_FILE if dialect == "qcdq" else QONNX_FILE)
        try:
            export(model, torch.from_numpy(x), path, dialect, backend, opset)
        except Exception as e:  # the dynamo back end refuses some models: say so, go on
            if not BACKENDS[backend]["dynamo"]:
                raise
            errors[dialect] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
            path.unlink(missing_ok=True)
            continue
        data = Path(str(path) + ".data")
        if data.exists():  # torch's dynamo exporter writes weights as external data: inline them
            m = onnx.load(str(path))
            onnx.save(m, str(path))
            data.unlink()
        if dump is not None:
            dump(name, dialect, onnx.load(str(path)))
    meta = {
        "name": name,
        "input_shape": list(spec.input_shape),
        "output_shape": list(y.shape),
        "classifier": spec.classifier,
        "what": spec.what,
        "exporter": {"backend": backend, "opset": opset},
        "qonnx_committed": not spec.large,
    }
    qpath = d / QCDQ_FILE
    if qpath.exists():
        yo = ort_run(qpath, x)
        np.save(d / "ort_output.npy", yo)
        quantized, scale = output_scale(onnx.load(str(qpath), load_external_data=False))
        meta["output_quantized"] = quantized
        meta["output_lsb"] = scale
        if uses_ares_ops(qpath):
            meta["ort_reference"] = ARES_OPS_REFERENCE
        agree = agreement(yo, y, scale, spec.classifier)
    else:
        agree = None
    with open(d / "meta.json", "w") as f:
        json.dump(meta, f, indent=2, sort_keys=False)
        f.write("\n")
    return {"meta": meta, "ort_vs_brevitas": agree, "export_errors": errors}
