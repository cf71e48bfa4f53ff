#!/usr/bin/env bash
# QOperator input and integer graph inputs/outputs: models quantized by ONNX Runtime
# (QOperator and QDQ formats) and hand-built QLinearConv / QLinearMatMul / ConvInteger /
# MatMulInteger graphs with uint8, int8 and int32 graph inputs and outputs
# (tests/models/generate_qoperator.py). Each must pass `ares check` and validate bit for bit
# on the host (and one of each kind on rv32); the bad-input side is in tests/malformed/.
. "$(dirname "$0")/lib.sh"
M=tests/models

run() { # run NAME MODEL INPUT [ares run options]
  local name=$1 model=$2 input=$3
  shift 3
  if "$ARES" run "$model" --input "$input" "$@" >"$tmp/run.log" 2>&1 && grep -q "all layers match" "$tmp/run.log"; then
    t_ok "$name: $(grep -cE ' ok( |$)' "$tmp/run.log") layers bit-exact"
  else
    t_fail "$name"; tail -6 "$tmp/run.log" | sed 's/^/     /'
  fi
}

for m in ort_cnn.qop ort_cnn.qop_s8 ort_cnn.qdq ort_act.qop ort_act.qop_s8 ort_softmax.qop ort_softmax.qop_s8; do
  f=$M/$m.onnx base=${m%%.*}
  if "$ARES" check "$f" >"$tmp/check.log" 2>&1; then t_ok "check $f"; else t_fail "check $f"; tail -5 "$tmp/check.log"; fi
  run "$m on host" "$f" $M/$base.input.npy --output "$tmp/$m.npy"
  run "$m on host, small L1" "$f" $M/$base.input.npy --cores 3 --l1 2048
done
# every QOperator node of the ONNX Runtime models lowers to an integer op (none is left float)
for m in ort_cnn.qop ort_act.qop ort_softmax.qop; do
  if "$ARES" check $M/$m.onnx | grep -E '^node[0-9]+ +(QLinear|QGemm)' | grep -qv ' ok '; then
    t_fail "$m: a QOperator node is not ok"
  else
    t_ok "$m: every QOperator node is ok"
  fi
done
# on the QOperator models ARES computes what ONNX Runtime computes: the same output file
for m in ort_cnn.qop ort_cnn.qop_s8 ort_act.qop ort_act.qop_s8 ort_softmax.qop ort_softmax.qop_s8; do
  cmp -s "$tmp/$m.npy" $M/$m.ort.npy && t_ok "$m: output identical to ONNX Runtime's" ||
    t_fail "$m: output differs from ONNX Runtime's"
done
for m in qop_uint8_io convinteger matmulinteger per_axis_q per_axis_dq; do
  run "$m on host" $M/$m.onnx $M/$m.input.npy --output "$tmp/$m.npy"
done
run "qlinearmatmul_2act (two graph inputs) on host" $M/qlinearmatmul_2act.onnx \
  $M/qlinearmatmul_2act.a.npy,$M/qlinearmatmul_2act.b.npy
# the integer outputs come out in ONNX's type (uint8, int32), not ARES' internal storage
grep -q "'|u1'" "$tmp/qop_uint8_io.npy" && t_ok "uint8 output saved as uint8" || t_fail "uint8 output saved as uint8"
grep -q "'<i4'" "$tmp/convinteger.npy" && t_ok "int32 output saved as int32" || t_fail "int32 output saved as int32"
# a wrong input type is refused
t_expect "float input for a uint8 graph input" 2 "u1 data expected" $ARES run $M/qop_uint8_io.onnx --input $M/ort_cnn.input.npy
if command -v qemu-system-riscv32 >/dev/null && command -v riscv64-unknown-elf-gcc >/dev/null; then
  run "ort_cnn.qop on 8 rv32 harts" $M/ort_cnn.qop.onnx $M/ort_cnn.input.npy --target rv32
  run "ort_act.qop_s8 on 8 rv32 harts" $M/ort_act.qop_s8.onnx $M/ort_act.input.npy --target rv32
  run "ort_softmax.qop on 8 rv32 harts" $M/ort_softmax.qop.onnx $M/ort_softmax.input.npy --target rv32
  run "qop_uint8_io on 8 rv32 harts" $M/qop_uint8_io.onnx $M/qop_uint8_io.input.npy --target rv32
  run "convinteger on 8 rv32 harts" $M/convinteger.onnx $M/convinteger.input.npy --target rv32
fi
t_summary
