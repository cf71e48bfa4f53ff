"""Readable text dump of an exported ONNX graph, for people writing the lowering.

One line per node: op type (with domain when not the default), attributes, inputs, outputs.
Scalar and small initializers are shown inline as `name=<dtype value>` so Q/DQ scales,
zero-point dtypes, Clip bounds and Quant bit widths can be read straight off the node.
"""

import numpy as np
import onnx
from onnx import numpy_helper

_SMALL = 8  # initializers with at most this many elements are printed in full


def _dtype(t: onnx.TensorProto) -> str:
    return onnx.helper.tensor_dtype_to_np_dtype(t.data_type).name


def _fmt_vals(a: np.ndarray) -> str:
    flat = a.reshape(-1)
    if a.dtype.kind == "f":
        s = ", ".join(f"{float(v):.9g}" for v in flat[:_SMALL])
    else:
        s = ", ".join(str(int(v)) for v in flat[:_SMALL])
    if flat.size > _SMALL:
        s += f", ... ({flat.size} values, min {a.min():.6g}, max {a.max():.6g})"
    return s


def _fmt_init(t: onnx.TensorProto) -> str:
    a = numpy_helper.to_array(t)
    shape = "x".join(str(d) for d in t.dims) or "scalar"
    if a.size <= _SMALL:
        return f"{_dtype(t)}[{shape}] = {_fmt_vals(a)}"
    return f"{_dtype(t)}[{shape}] min {a.min():.6g} max {a.max():.6g}"


def _fmt_attr(a: onnx.AttributeProto) -> str:
    v = onnx.helper.get_attribute_value(a)
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, onnx.TensorProto):
        v = _fmt_init(v)
    return f"{a.name}={v}"


def _vi_str(vi: onnx.ValueInfoProto) -> str:
    tt = vi.type.tensor_type
    dims = [str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
            for d in tt.shape.dim]
    dt = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type).name if tt.elem_type else "?"
    return f"{vi.name}: {dt}[{'x'.join(dims)}]"


def dump_graph(model: onnx.ModelProto, title: str = "") -> str:
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    consts = {}  # Constant node outputs (dynamo exports keep them)
    for n in g.node:
        if n.op_type == "Constant" and n.attribute:
            try:
                consts[n.output[0]] = onnx.helper.get_attribute_value(n.attribute[0])
            except Exception:  # pragma: no cover - odd constant kinds
                pass
    lines = []
    if title:
        lines.append("=" * 100)
        lines.append(title)
        lines.append("=" * 100)
    lines.append(
        "opsets: " + ", ".join(f"{o.domain or 'ai.onnx'}={o.version}" for o in model.opset_import)
        + f"   ir_version={model.ir_version}   producer={model.producer_name} "
        f"{model.producer_version}")
    lines.append("inputs:")
    for vi in g.input:
        tag = "  (has initializer)" if vi.name in inits else ""
        lines.append(f"  {_vi_str(vi)}{tag}")
    lines.append("outputs:")
    for vi in g.output:
        lines.append(f"  {_vi_str(vi)}")
    lines.append(f"initializers ({len(inits)}):")
    for name, t in inits.items():
        lines.append(f"  {name}: {_fmt_init(t)}")
    lines.append(f"nodes ({len(g.node)}):")

    def arg(name):
        if name == "":
            return "<none>"
        if name in inits:
            t = inits[name]
            if np.prod(t.dims, dtype=np.int64) <= _SMALL:
                return f"{name}=<{_fmt_init(t)}>"
            return f"{name}<{_dtype(t)}[{'x'.join(map(str, t.dims))}]>"
        if name in consts and isinstance(consts[name], onnx.TensorProto):
            return f"{name}=<const {_fmt_init(consts[name])}>"
        return name

    for i, n in enumerate(g.node):
        op = n.op_type if not n.domain else f"{n.domain}::{n.op_type}"
        attrs = ", ".join(_fmt_attr(a) for a in n.attribute)
        lines.append(f"  [{i}] {op}" + (f" {{{attrs}}}" if attrs else ""))
        lines.append(f"       in : {', '.join(arg(x) for x in n.input)}")
        lines.append(f"       out: {', '.join(n.output)}")
    hist = {}
    for n in g.node:
        k = n.op_type if not n.domain else f"{n.domain}::{n.op_type}"
        hist[k] = hist.get(k, 0) + 1
    lines.append("op histogram: " + ", ".join(f"{k}={v}" for k, v in sorted(hist.items())))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m ares.zoo.dump FILE.onnx...
    import sys
    for p in sys.argv[1:]:
        print(dump_graph(onnx.load(p), p))
