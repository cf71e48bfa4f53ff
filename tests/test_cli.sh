#!/usr/bin/env bash
# The command line: help, bad input (exit 2, a message naming the reason, no partial
# output), and that docs/SUPPORTED_OPERATIONS.md is what the op registry generates.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
ARES=build/ares
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for c in "" check compile run passes ops fidelity; do
  if $ARES help $c >/dev/null && $ARES ${c:-help} --help >/dev/null 2>&1 || [ -z "$c" ]; then t_ok "help $c"; else t_fail "help $c"; fi
done
t_expect "no arguments" 2 "usage" $ARES
t_expect "unknown command" 2 "unknown command" $ARES frobnicate
t_expect "unknown option" 2 "unknown option" $ARES compile tests/zoo/tinycnn/model.onnx --bogus
t_expect "compile without -o" 2 "needs -o" $ARES compile tests/zoo/tinycnn/model.onnx
t_expect "unknown target" 2 "unknown target" $ARES compile tests/zoo/tinycnn/model.onnx -o "$tmp/x" --target vax
t_expect "gap9 project" 0 "" $ARES compile tests/zoo/tinycnn/model.onnx -o "$tmp/gap9" --target gap9
t_expect "missing file" 2 "cannot open" $ARES compile "$tmp/nope.onnx" -o "$tmp/x"
t_expect "bad --dump-after" 2 "no pass named" $ARES compile tests/zoo/tinycnn/model.onnx -o "$tmp/x" --dump-after nope

# malformed and unsupported models: exact reason, status 2, no output directory
while IFS='|' read -r file msg; do
  t_expect "malformed $file" 2 "$msg" $ARES compile "tests/malformed/$file" -o "$tmp/out"
  if [ -e "$tmp/out" ] || ls "$tmp" | grep -q ares-tmp; then t_fail "partial output left for $file"; rm -rf "$tmp"/out*; else t_ok "no partial output for $file"; fi
done <<'LIST'
empty.onnx|is empty
text.onnx|not a valid ONNX model
truncated.onnx|not a valid ONNX model
unsupported_op.onnx|node 'upsample0' (ConvTranspose): unsupported: operator ConvTranspose
float_conv.onnx|node 'float_conv' (Conv): unsupported: input 'x' is not quantized
missing_input.onnx|node 'orphan' (Relu): input 'nowhere' is not produced
clip_unrepresentable.onnx|node 'clip' (Clip): unsupported: Clip bound -0.55 is not representable
LIST

# small hand-made models that must validate
t_expect "Clip on a dequantized activation" 0 "" $ARES run tests/models/clip_activation.onnx --input tests/models/clip_activation.input.npy
t_expect "a bias beyond the int32 accumulator (carried in the add term)" 0 "" $ARES run tests/models/bias_beyond_accumulator.onnx
# attention layout and products of activations (tests/models/make_attention_models.py), on
# the host and with a small L1 / 3 cores (tiling)
for m in slice_split_gather matmul_heads matmul_const_queries; do
  t_expect "$m" 0 "" $ARES run tests/models/$m.onnx --input tests/models/$m.input.npy
  t_expect "$m, L1 600 B, 3 cores" 0 "" $ARES run tests/models/$m.onnx --input tests/models/$m.input.npy --l1 600 --cores 3
done

# compile into an existing non-empty directory is refused and leaves it alone
mkdir -p "$tmp/full" && touch "$tmp/full/keep"
t_expect "non-empty output dir" 2 "not empty" $ARES compile tests/zoo/tinycnn/model.onnx -o "$tmp/full"
[ -e "$tmp/full/keep" ] && t_ok "non-empty output dir untouched" || t_fail "non-empty output dir untouched"

# --dump-after writes the IR after each pass
for p in $($ARES passes | awk '{print $1}'); do
  if $ARES compile tests/zoo/simplecnn/model.onnx -o "$tmp/d_$p" --dump-after "$p" --dump-file "$tmp/dump_$p.txt" 2>/dev/null && grep -q '^graph ' "$tmp/dump_$p.txt"; then
    t_ok "dump after $p"
  else
    t_fail "dump after $p"
  fi
done

# the supported-operations document is generated from the registry
if $ARES ops --markdown | cmp -s - docs/SUPPORTED_OPERATIONS.md; then t_ok "docs/SUPPORTED_OPERATIONS.md up to date"
else t_fail "docs/SUPPORTED_OPERATIONS.md differs from 'ares ops --markdown' (regenerate with make docs)"; fi

t_summary
