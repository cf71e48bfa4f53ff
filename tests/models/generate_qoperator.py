"""Writes the QOperator test models into tests/models/ (checked by tests/test_qoperator.sh).

  ort_cnn.*.onnx     a small float CNN (Conv, Relu, MaxPool, a residual Add, Concat,
                     AveragePool, GlobalAveragePool, Flatten, Gemm) quantized by ONNX Runtime's
                     quantize_static, calibrated on fixed random data:
                       qop.onnx     QOperator format, uint8 activations, int8 weights
                       qop_s8.onnx  QOperator format, int8 activations, per-channel int8 weights
                       qdq.onnx     QDQ format, uint8 activations, per-channel int8 weights
                     ort_cnn.input.npy is the input; ort_cnn.<variant>.ort.npy ONNX Runtime's
                     output for it (tests/test_qoperator.sh requires ARES' output to equal it
                     byte for byte for the QOperator variants).
  ort_act.*.onnx     a CNN with SiLU (Sigmoid and Mul of two activations), LeakyRelu and a
                     GlobalAveragePool, quantized like ort_cnn (qop, qop_s8): QLinearSigmoid,
                     QLinearMul, QLinearLeakyRelu; ort_act.input.npy, ort_act.<variant>.ort.npy.
  ort_softmax.*.onnx MatMul, Softmax over the last axis, MatMul (attention's shape), quantized
                     likewise: QLinearMatMul, QLinearSoftmax; ort_softmax.input.npy, *.ort.npy.
  qop_uint8_io.onnx  uint8 graph input and output: QLinearConv with uint8 weights whose zero
                     point leaves int8 (split into int8 parts), MaxPool and Flatten on uint8,
                     QLinearMatMul with a uint8 matrix; qop_uint8_io.input.npy (uint8).
  convinteger.onnx   int8 input, ConvInteger with int8 weights and zero points, int32 output.
  matmulinteger.onnx uint8 input, MatMulInteger with a uint8 matrix, int32 output.
  per_axis_q.onnx, per_axis_dq.onnx  per-axis QuantizeLinear of a float graph input to a
                     uint8 graph output, and per-axis DequantizeLinear of a uint8 graph input
                     (ONNX allows per-axis activations at a graph edge); *.input.npy.
  qlinearmatmul_2act.onnx  QLinearMatMul of two batched uint8 graph inputs (attention-style,
                     lowered by lower-matmul); qlinearmatmul_2act.{a,b}.npy its inputs.

Run from the repository root:  .venv/bin/python tests/models/generate_qoperator.py
Deterministic for a given onnx / onnxruntime version (fixed seeds)."""
import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

HERE = os.path.dirname(os.path.abspath(__file__))


def save(m, name):
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(HERE, name))


def gaussian(rng, name, shape, s):
    return numpy_helper.from_array((rng.standard_normal(shape) * s).astype(np.float32), name)


def float_model(name, nodes, inits, x_shape, y_shape):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def float_cnn(rng):
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Add", ["r2", "p1"], ["a2"]),
        helper.make_node("Conv", ["a2", "w3", "b3"], ["c3"], group=8, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Concat", ["a2", "c3"], ["cat"], axis=1),
        helper.make_node("AveragePool", ["cat"], ["ap"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["ap"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1),
    ]
    inits = [
        gaussian(rng, "w1", (8, 3, 3, 3), 0.3), gaussian(rng, "b1", (8,), 0.1),
        gaussian(rng, "w2", (8, 8, 3, 3), 0.15), gaussian(rng, "b2", (8,), 0.1),
        gaussian(rng, "w3", (8, 1, 3, 3), 0.4), gaussian(rng, "b3", (8,), 0.1),
        gaussian(rng, "wf", (10, 16), 0.3), gaussian(rng, "bf", (10,), 0.1),
    ]
    return float_model("ort_cnn", nodes, inits, [1, 3, 16, 16], [1, 10])


def float_act(rng):
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["c1"], ["s1"]),
        helper.make_node("Mul", ["c1", "s1"], ["m1"]),
        helper.make_node("Conv", ["m1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("LeakyRelu", ["c2"], ["l2"], alpha=0.1),
        helper.make_node("GlobalAveragePool", ["l2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1),
    ]
    inits = [
        gaussian(rng, "w1", (8, 3, 3, 3), 0.3), gaussian(rng, "b1", (8,), 0.1),
        gaussian(rng, "w2", (8, 8, 3, 3), 0.15), gaussian(rng, "b2", (8,), 0.1),
        gaussian(rng, "wf", (10, 8), 0.3), gaussian(rng, "bf", (10,), 0.1),
    ]
    return float_model("ort_act", nodes, inits, [1, 3, 16, 16], [1, 10])


def float_softmax(rng):
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"]),
        helper.make_node("Softmax", ["m1"], ["s1"], axis=-1),
        helper.make_node("MatMul", ["s1", "w2"], ["y"]),
    ]
    inits = [gaussian(rng, "w1", (16, 16), 0.5), gaussian(rng, "w2", (16, 8), 0.5)]
    return float_model("ort_softmax", nodes, inits, [1, 8, 16], [1, 8, 8])


class Calibration(CalibrationDataReader):
    def __init__(self, seed, shape):
        r = np.random.default_rng(seed)
        self.data = iter([{"x": r.standard_normal(shape).astype(np.float32)} for _ in range(16)])

    def get_next(self):
        return next(self.data, None)


VARIANTS = {
    "qop": dict(quant_format=QuantFormat.QOperator, activation_type=QuantType.QUInt8, per_channel=False),
    "qop_s8": dict(quant_format=QuantFormat.QOperator, activation_type=QuantType.QInt8, per_channel=True),
    "qdq": dict(quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, per_channel=True),
}


def ort_quantized(base, m, variants, shape=(1, 3, 16, 16)):
    """base.<variant>.onnx for each variant of the float model m (input x of the given
    shape), with base.input.npy and ONNX Runtime's output for it, base.<variant>.ort.npy."""
    x = np.random.default_rng(11).standard_normal(shape).astype(np.float32)
    np.save(os.path.join(HERE, base + ".input.npy"), x)
    with tempfile.TemporaryDirectory() as tmp:
        fp = os.path.join(tmp, "float.onnx")
        m.ir_version = 8
        onnx.save(m, fp)
        for name in variants:
            kw = VARIANTS[name]
            out = os.path.join(HERE, "%s.%s.onnx" % (base, name))
            quantize_static(fp, out, Calibration(3, shape), weight_type=QuantType.QInt8, **kw)
            q = onnx.load(out)
            q.producer_name = "onnxruntime.quantization (tests/models/generate_qoperator.py)"
            onnx.save(q, out)
            y = ort.InferenceSession(out, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
            np.save(os.path.join(HERE, "%s.%s.ort.npy" % (base, name)), y)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def qop_uint8_io():
    r = np.random.default_rng(5)
    w = r.integers(0, 256, (4, 2, 3, 3), dtype=np.uint8)
    b = r.integers(0, 256, (16, 6), dtype=np.uint8)
    inits = [
        const("xs", np.float32(0.02)), const("xz", np.uint8(120)),
        const("w", w), const("ws", np.float32(0.004)), const("wz", np.uint8(128)),
        const("cs", np.float32(0.05)), const("cz", np.uint8(100)),
        const("bias", r.integers(-300, 300, (4,)).astype(np.int32)),
        const("b", b), const("bs", np.float32(0.003)), const("bz", np.uint8(131)),
        const("ys", np.float32(0.04)), const("yz", np.uint8(125)),
    ]
    nodes = [
        helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "cs", "cz", "bias"], ["c"], pads=[1, 1, 1, 1],
                         strides=[2, 2]),
        helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("QLinearMatMul", ["f", "cs", "cz", "b", "bs", "bz", "ys", "yz"], ["y"]),
    ]
    g = helper.make_graph(nodes, "qop_uint8_io", [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 2, 9, 9])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, [1, 6])], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "qop_uint8_io.onnx")
    np.save(os.path.join(HERE, "qop_uint8_io.input.npy"), r.integers(0, 256, (1, 2, 9, 9), dtype=np.uint8))


def integer_ops():
    r = np.random.default_rng(9)
    inits = [const("w", r.integers(-128, 128, (3, 2, 3, 3), dtype=np.int8)), const("xz", np.int8(-5)),
             const("wz", np.int8(3))]
    node = helper.make_node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], pads=[0, 1, 0, 1])
    g = helper.make_graph([node], "convinteger", [helper.make_tensor_value_info("x", TensorProto.INT8, [1, 2, 6, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 3, 4, 6])], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "convinteger.onnx")
    np.save(os.path.join(HERE, "convinteger.input.npy"), r.integers(-128, 128, (1, 2, 6, 6), dtype=np.int8))
    inits = [const("b", r.integers(0, 256, (7, 5), dtype=np.uint8)), const("az", np.uint8(128)), const("bz", np.uint8(77))]
    node = helper.make_node("MatMulInteger", ["a", "b", "az", "bz"], ["y"])
    g = helper.make_graph([node], "matmulinteger", [helper.make_tensor_value_info("a", TensorProto.UINT8, [3, 7])],
                          [helper.make_tensor_value_info("y", TensorProto.INT32, [3, 5])], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "matmulinteger.onnx")
    np.save(os.path.join(HERE, "matmulinteger.input.npy"), r.integers(0, 256, (3, 7), dtype=np.uint8))


def two_activations():
    r = np.random.default_rng(1)
    inits = [const("as", np.float32(0.03)), const("az", np.uint8(120)), const("bs", np.float32(0.02)),
             const("bz", np.uint8(133)), const("ys", np.float32(0.2)), const("yz", np.uint8(128))]
    node = helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"], name="mm")
    g = helper.make_graph([node], "qlinearmatmul_2act", [helper.make_tensor_value_info("a", TensorProto.UINT8, [2, 3, 8]),
                                                         helper.make_tensor_value_info("b", TensorProto.UINT8, [2, 8, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, [2, 3, 5])], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "qlinearmatmul_2act.onnx")
    np.save(os.path.join(HERE, "qlinearmatmul_2act.a.npy"), r.integers(0, 256, (2, 3, 8), dtype=np.uint8))
    np.save(os.path.join(HERE, "qlinearmatmul_2act.b.npy"), r.integers(0, 256, (2, 8, 5), dtype=np.uint8))


def per_axis_edges():
    r = np.random.default_rng(4)
    inits = [const("s", np.array([0.02, 0.05, 0.1], np.float32)), const("z", np.array([10, 128, 250], np.uint8))]
    q = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], name="q", axis=1)
    g = helper.make_graph([q], "per_axis_q", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, [2, 3, 4, 5])], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "per_axis_q.onnx")
    np.save(os.path.join(HERE, "per_axis_q.input.npy"), (r.standard_normal((2, 3, 4, 5)) * 3).astype(np.float32))
    dq = helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], name="dq", axis=1)
    g = helper.make_graph([dq], "per_axis_dq", [helper.make_tensor_value_info("x", TensorProto.UINT8, [2, 3, 4, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4, 5])], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "per_axis_dq.onnx")
    np.save(os.path.join(HERE, "per_axis_dq.input.npy"), r.integers(0, 256, (2, 3, 4, 5), dtype=np.uint8))


if __name__ == "__main__":
    per_axis_edges()
    ort_quantized("ort_cnn", float_cnn(np.random.default_rng(7)), ["qop", "qop_s8", "qdq"])
    ort_quantized("ort_act", float_act(np.random.default_rng(3)), ["qop", "qop_s8"])
    ort_quantized("ort_softmax", float_softmax(np.random.default_rng(3)), ["qop", "qop_s8"], (1, 8, 16))
    qop_uint8_io()
    integer_ops()
    two_activations()
