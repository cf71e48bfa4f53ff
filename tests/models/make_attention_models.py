"""Writes the hand-built attention-layout models of tests/models (run from the repository
root with the project's venv: .venv/bin/python tests/models/make_attention_models.py):

- slice_split_gather: Slice with negative steps, Split, Gather (2-D and scalar indices) on a
  quantized activation, and a weight Slice folded into a MatMul's weight;
- matmul_heads: q/k/v projections (times 0.5 before their quantizers) split into 2 heads,
  q.k^T (divided by 2, times 0.5) and attn.v as products of two quantized activations (uint8
  attention), float-output products with broadcast batch dims;
- matmul_const_queries: a quantized constant (learned queries) times an activation.

Each gets an input (<name>.input.npy); ares run checks them bit-exactly (tests/test_cli.sh).
"""

import numpy as np
import onnx
from onnx import TensorProto as T, helper as h, numpy_helper as nh

OUT = "tests/models"


def c(name, arr):
    return nh.from_array(np.asarray(arr), name)


def save(name, nodes, inits, in_shape, outs, rng):
    g = h.make_graph(nodes, name, [h.make_tensor_value_info("x", T.FLOAT, list(in_shape))],
                     [h.make_tensor_value_info(o, T.FLOAT, None) for o in outs], inits)
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), f"{OUT}/{name}.onnx")
    np.save(f"{OUT}/{name}.input.npy", rng.standard_normal(in_shape).astype(np.float32))


def slice_split_gather(rng):
    W = rng.integers(-127, 128, (6, 6)).astype(np.int8)
    inits = [c("s", np.float32(0.05)), c("z", np.int8(3)), c("z0", np.int8(0)), c("s2", np.float32(0.3)),
             c("W", W), c("ws", np.float32(0.01)),
             c("st", np.array([7, 0], np.int64)), c("en", np.array([-100, 6], np.int64)),
             c("ax", np.array([2, 1], np.int64)), c("sp", np.array([-1, 2], np.int64)),
             c("spl", np.array([1, 2], np.int64)), c("gi", np.array([[2, 0], [1, 1]], np.int64)),
             c("gi2", np.array(-1, np.int64)),
             c("wst", np.array([1], np.int64)), c("wen", np.array([7], np.int64)), c("wax", np.array([1], np.int64))]
    nodes = [h.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             h.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
             h.make_node("Slice", ["d", "st", "en", "ax", "sp"], ["sl"]),  # [1,3,8]
             h.make_node("Split", ["sl", "spl"], ["a", "b"], axis=1),  # [1,1,8], [1,2,8]
             h.make_node("Gather", ["b", "gi"], ["gt"], axis=2),  # [1,2,2,2]
             h.make_node("Gather", ["a", "gi2"], ["g2"], axis=2),  # [1,1]
             h.make_node("QuantizeLinear", ["gt", "s2", "z"], ["q2"]),
             h.make_node("DequantizeLinear", ["q2", "s2", "z"], ["y"]),
             h.make_node("QuantizeLinear", ["g2", "s2", "z"], ["q3"]),
             h.make_node("DequantizeLinear", ["q3", "s2", "z"], ["y2"]),
             # weight sliced to [6, 5] (columns 1..5), then a Slice of the product (reversed)
             h.make_node("DequantizeLinear", ["W", "ws", "z0"], ["wd"]),
             h.make_node("Slice", ["wd", "wst", "wen", "wax"], ["wsl"]),
             h.make_node("Transpose", ["d"], ["dt"], perm=[0, 2, 1]),  # [1,8,6]
             h.make_node("MatMul", ["dt", "wsl"], ["mm"]),  # [1,8,5]
             h.make_node("Slice", ["mm", "m1", "mlo", "ax1", "m1"], ["ms"]),  # dim 1 reversed
             h.make_node("QuantizeLinear", ["ms", "s2", "z"], ["q4"]),
             h.make_node("DequantizeLinear", ["q4", "s2", "z"], ["y3"])]
    inits += [c("ax1", np.array([1], np.int64)), c("m1", np.array([-1], np.int64)),
              c("mlo", np.array([-100], np.int64))]
    save("slice_split_gather", nodes, inits, (1, 6, 8), ["y", "y2", "y3"], rng)


def matmul_heads(rng):
    S, E, H = 8, 16, 2
    D = E // H
    inits = [c("s", np.float32(0.05)), c("z", np.int8(0)), c("zu", np.uint8(0)), c("sq", np.float32(0.12)),
             c("sk", np.float32(0.11)), c("sv", np.float32(0.13)), c("sa", np.float32(1.5)),
             c("so", np.float32(0.2)), c("ws", np.float32(0.003)), c("gi", np.array(0, np.int64)),
             c("half", np.float32(0.5)), c("two", np.float32(2.0)),
             c("shp", np.array([1, S, H, D], np.int64)), c("shp2", np.array([1, S, E], np.int64))]
    nodes = [h.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             h.make_node("DequantizeLinear", ["q", "s", "z"], ["d"])]
    for nm, sc, perm in [("q", "sq", [0, 2, 1, 3]), ("k", "sk", [0, 2, 3, 1]), ("v", "sv", [0, 2, 1, 3])]:
        inits.append(c("W" + nm, rng.integers(-127, 128, (E, E)).astype(np.int8)))
        nodes += [h.make_node("DequantizeLinear", ["W" + nm, "ws", "z"], [nm + "w"]),
                  h.make_node("MatMul", ["d", nm + "w"], [nm + "mm"]),
                  h.make_node("Reshape", [nm + "mm", "shp"], [nm + "r"]),
                  h.make_node("Transpose", [nm + "r"], [nm + "t"], perm=perm),
                  h.make_node("Mul", [nm + "t", "half"], [nm + "m"]),  # folded into the q/k/v layer
                  h.make_node("QuantizeLinear", [nm + "m", sc, "z"], [nm + "Q"]),
                  h.make_node("DequantizeLinear", [nm + "Q", sc, "z"], [nm + "D"])]
    nodes += [h.make_node("MatMul", ["qD", "kD"], ["att0"]),  # [1,2,8,8]
              h.make_node("Div", ["att0", "two"], ["att1"]),  # folded into the product's requantization
              h.make_node("Mul", ["att1", "half"], ["att"]),
              h.make_node("Relu", ["att"], ["attr"]),
              h.make_node("QuantizeLinear", ["attr", "sa", "zu"], ["aQ"]),  # uint8: zp -128 inside
              h.make_node("DequantizeLinear", ["aQ", "sa", "zu"], ["aD"]),
              h.make_node("MatMul", ["aD", "vD"], ["o"]),
              h.make_node("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3]),
              h.make_node("Reshape", ["ot", "shp2"], ["or"]),
              h.make_node("QuantizeLinear", ["or", "so", "z"], ["oQ"]),
              h.make_node("DequantizeLinear", ["oQ", "so", "z"], ["oD"]),
              h.make_node("MatMul", ["aD", "qD"], ["y2"]),  # float output
              h.make_node("MatMul", ["aD", "d"], ["y3"]),  # b broadcast over the heads
              h.make_node("Gather", ["aD", "gi"], ["ag"], axis=1),
              h.make_node("MatMul", ["ag", "vD"], ["y4"])]  # a broadcast over the heads
    save("matmul_heads", nodes, inits, (1, S, E), ["oD", "y2", "y3", "y4"], rng)


def matmul_const_queries(rng):
    inits = [c("s", np.float32(0.05)), c("z", np.int8(0)), c("sq", np.float32(0.02)),
             c("Qc", rng.standard_normal((4, 16)).astype(np.float32)), c("so", np.float32(0.3)),
             c("shq", np.array([1, 4, 2, 8], np.int64)), c("shx", np.array([1, 8, 2, 8], np.int64))]
    nodes = [h.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             h.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
             h.make_node("QuantizeLinear", ["Qc", "sq", "z"], ["qq"]),
             h.make_node("DequantizeLinear", ["qq", "sq", "z"], ["qd"]),
             h.make_node("Reshape", ["qd", "shq"], ["qr"]),
             h.make_node("Transpose", ["qr"], ["qt"], perm=[0, 2, 1, 3]),  # [1,2,4,8]
             h.make_node("Reshape", ["d", "shx"], ["xr"]),
             h.make_node("Transpose", ["xr"], ["xt"], perm=[0, 2, 3, 1]),  # [1,2,8,8]
             h.make_node("MatMul", ["qt", "xt"], ["m"]),
             h.make_node("QuantizeLinear", ["m", "so", "z"], ["mq"]),
             h.make_node("DequantizeLinear", ["mq", "so", "z"], ["y"])]
    save("matmul_const_queries", nodes, inits, (1, 8, 16), ["y"], rng)


if __name__ == "__main__":
    rng = np.random.default_rng(20261201)
    slice_split_gather(rng)
    matmul_heads(rng)
    matmul_const_queries(rng)
