"""ares.export (module ares._export): a Brevitas model to ONNX, checked against ONNX Runtime, with its test data.

The exporter settings are the zoo's (python/ares/zoo/generate.py): Brevitas'
`export_onnx_qcdq` / `export_qonnx` through torch's TorchScript back end (`dynamo=False`) at
opset 13. torch 2.13 defaults to the dynamo back end, which cannot export quantized biases
to QCDQ; see python/ares/zoo/README.md.
"""

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np

from .tool import AresError

DIALECTS = ("qcdq", "qonnx")
INPUT_FILE = "input.npy"
TORCH_OUTPUT_FILE = "brevitas_output.npy"
ORT_OUTPUT_FILE = "ort_output.npy"


class ExportError(AresError):
    """The export failed, or ONNX Runtime running the exported QCDQ graph disagrees with the
    PyTorch model by more than the tolerance (the graph does not compute what the model
    does: a layer ARES cannot see, a float op Brevitas left out, an exporter bug)."""


@dataclass
class ExportResult:
    path: Path  # the ONNX file
    dialect: str
    input_path: Path  # input.npy beside it: the example input, float32
    torch_output_path: Path  # brevitas_output.npy: the PyTorch model's output on it
    ort_output_path: Optional[Path] = None  # ort_output.npy (QCDQ only)
    # ORT vs PyTorch (QCDQ only): identical (share of equal elements), max_abs, lsb (one
    # output step: the output quantizer's scale, or for a float output the largest
    # accumulator scale input x weight), max_lsb = max_abs / lsb
    agreement: dict = field(default_factory=dict)


def _as_numpy_input(example_input) -> np.ndarray:
    import torch
    if isinstance(example_input, torch.Tensor):
        x = example_input.detach().cpu().numpy()
    else:
        x = np.asarray(example_input)
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim < 2:
        raise ValueError(f"example_input must have a batch dimension (e.g. shape [1, C, H, W]), "
                         f"got shape {list(x.shape)}")
    return x


def torch_output(model, x: np.ndarray) -> np.ndarray:
    """The model's output (eval mode, no grad) as float32 numpy; QuantTensors are unwrapped."""
    import torch
    from brevitas.quant_tensor import QuantTensor
    model.eval()
    with torch.no_grad():
        y = model(torch.from_numpy(x))
    if isinstance(y, (tuple, list)):
        raise ValueError("ARES models have one output; the model returned "
                         f"{type(y).__name__} of {len(y)}")
    if isinstance(y, QuantTensor):
        y = y.value
    return y.detach().cpu().numpy().astype(np.float32)


def _inits(g):
    import onnx
    return {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}


def output_lsb(path) -> Optional[float]:
    """One step of the graph output in a QCDQ file: the final DequantizeLinear's scale, or for
    a float Conv/Gemm/MatMul output the largest accumulator scale input x weight (walking
    through layout ops to the DequantizeLinears). None if it cannot be determined."""
    import onnx
    g = onnx.load(str(path)).graph
    inits = _inits(g)
    prod = {o: n for n in g.node for o in n.output}
    through = {"Flatten", "Reshape", "Relu", "MaxPool", "Pad", "Transpose", "Identity",
               "Squeeze", "Unsqueeze", "Clip", "Concat"}  # Concat: ares.nn.Cat shares one scale

    def dq_scale(name):
        n = prod.get(name)
        while n is not None and n.op_type in through:
            n = prod.get(n.input[0])
        if n is None or n.op_type != "DequantizeLinear" or n.input[1] not in inits:
            return None
        return np.asarray(inits[n.input[1]], dtype=np.float64)

    out = g.output[0].name
    n = prod.get(out)
    if n is None:
        return None
    if n.op_type == "DequantizeLinear":
        s = dq_scale(out)
        return float(np.max(s)) if s is not None else None
    if n.op_type == "Add" and prod.get(n.input[0]) is not None and \
            prod[n.input[0]].op_type == "MatMul":
        n = prod[n.input[0]]
    if n.op_type in ("Gemm", "Conv", "MatMul"):
        sa, sw = dq_scale(n.input[0]), dq_scale(n.input[1])
        if sa is not None and sw is not None:
            return float(np.max(sa) * np.max(sw))
    return None


def export(model, example_input, path: Union[str, Path], dialect: str = "qcdq", *,
           check: bool = True, tolerance_lsb: float = 1.0) -> ExportResult:
    """Exports `model` (a Brevitas / ares.nn model) for `example_input` (batch first, e.g.
    [1, C, H, W]; a torch tensor or numpy array) to `path` in `dialect` ("qcdq" or "qonnx").

    Beside the model it writes input.npy (the example input, float32 — `ares run` picks it up)
    and brevitas_output.npy (the PyTorch model's output). For QCDQ it also runs the exported
    graph with ONNX Runtime (graph optimizations off: the literal op semantics), writes
    ort_output.npy and, with check=True, raises ExportError when ORT and PyTorch differ by
    more than `tolerance_lsb` output steps anywhere. (Float rounding order can flip an
    exact tie by one step; anything larger means the graph does not compute the model.)
    QONNX graphs use custom ops ONNX Runtime cannot run, so only QCDQ is checked.
    """
    from .zoo import generate as gen
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}, got {dialect!r}")
    import torch
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = _as_numpy_input(example_input)
    y = torch_output(model, x)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gen.export(model, torch.from_numpy(x), path, dialect)
    except Exception as e:
        raise ExportError(f"Brevitas could not export the model to {dialect.upper()}: "
                          f"{type(e).__name__}: {e}") from e
    d = path.parent
    res = ExportResult(path, dialect, d / INPUT_FILE, d / TORCH_OUTPUT_FILE)
    np.save(res.input_path, x)
    np.save(res.torch_output_path, y)
    if dialect != "qcdq":
        return res
    try:
        yo = gen.ort_run(path, x)
    except Exception as e:
        raise ExportError(f"ONNX Runtime cannot run the exported graph {path}: "
                          f"{type(e).__name__}: {e}") from e
    res.ort_output_path = d / ORT_OUTPUT_FILE
    np.save(res.ort_output_path, yo)
    if yo.shape != y.shape:
        raise ExportError(f"the exported graph's output has shape {list(yo.shape)}, the model's "
                          f"{list(y.shape)}")
    diff = np.abs(yo.astype(np.float64) - y.astype(np.float64))
    lsb = output_lsb(path)
    agree = {"identical": float(np.mean(yo == y)), "max_abs": float(diff.max(initial=0.0)),
             "lsb": lsb, "max_lsb": float(diff.max(initial=0.0) / lsb) if lsb else None}
    res.agreement = agree
    if check:
        if lsb:
            bad = agree["max_lsb"] > tolerance_lsb + 1e-6
        else:  # no output step known: relative to the output's magnitude
            bad = not np.allclose(yo, y, rtol=1e-4, atol=1e-5 * float(np.abs(y).max(initial=1.0)))
        if bad:
            raise ExportError(
                f"ONNX Runtime on {path.name} differs from the PyTorch model: max |delta| "
                f"{agree['max_abs']:.6g}" + (f" = {agree['max_lsb']:.3g} output steps" if lsb
                                             else "") +
                f", {100 * agree['identical']:.1f} % identical (tolerance {tolerance_lsb} steps)."
                " The exported graph does not compute what the model computes.")
    return res
