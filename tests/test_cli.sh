#!/usr/bin/env bash
# The command line: help, bad input (exit 2, a message naming the reason, no partial
# output), and that docs/SUPPORTED_OPERATIONS.md is what the op registry generates.
. "$(dirname "$0")/lib.sh"

for c in "" check compile run bench passes ops fidelity; do
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

# ares bench: bad input is refused before anything runs
t_expect "bench: missing model" 2 "cannot open '$tmp/nope.onnx'" $ARES bench "$tmp/nope.onnx"
t_expect "bench: a target that cannot run here" 2 "unsupported: 'ares bench' on target 'gap9'" $ARES bench tests/zoo/mlp/model.onnx --target gap9
t_expect "bench: --update without a baseline" 2 "--update needs --baseline" $ARES bench tests/zoo/mlp/model.onnx --update
printf '{"format": 1, "target": "rv32", "networks": [{"name": "mlp",' >"$tmp/truncated.json"
t_expect "bench: truncated baseline" 2 "truncated.json': line 1, column 61: unexpected end of the text" \
  $ARES bench tests/zoo/mlp/model.onnx --baseline "$tmp/truncated.json" --thresholds bench/thresholds
printf '{"format": 1, "target": "rv32", "networks": [{"name": "mlp", "model": "m", "macs": 1.5}]}' >"$tmp/badtype.json"
t_expect "bench: baseline with a wrong type" 2 "network 'mlp': 'cores' is missing" \
  $ARES bench tests/zoo/mlp/model.onnx --baseline "$tmp/badtype.json" --thresholds bench/thresholds

# ares bench on the smallest network: validated on rv32, its figures reproducible run to run
# (all but the compile time)
if $ARES bench tests/zoo/mlp/model.onnx --json "$tmp/mlp.json" >"$tmp/b1.log" 2>&1 && grep -q '^ok   mlp: bit-exact on 8 rv32 harts' "$tmp/b1.log" &&
  $ARES bench tests/zoo/mlp/model.onnx --json "$tmp/mlp2.json" >/dev/null 2>&1; then
  t_ok "bench mlp on rv32"
  if cmp -s <(grep -v compile_ms "$tmp/mlp.json") <(grep -v compile_ms "$tmp/mlp2.json"); then t_ok "bench figures reproducible"
  else t_fail "bench figures differ between two runs"; diff "$tmp/mlp.json" "$tmp/mlp2.json" | head -5; fi
else
  t_fail "bench mlp on rv32"; tail -5 "$tmp/b1.log"
fi
# the comparison with a baseline (--compare: the figures of that run, no new run).
# baseline METRIC HOW: a copy of the run's figures with the network's METRIC changed
# (half, double, minus1, plus1, or less0.5: the run is 0.5 % above it); prints its path.
baseline() {
  awk -v key="\"$1\":" -v how="$2" '/"layers"/ { done = 1 }
    !done && $1 == key { x = $2 + 0
      v = how == "half" ? int(x / 2) : how == "double" ? 2 * x : how == "minus1" ? x - 1 : how == "plus1" ? x + 1 : int(x / 1.005)
      sub(/: [0-9.]+/, ": " v) }
    { print }' "$tmp/mlp.json" >"$tmp/base_$1_$2.json"
  echo "$tmp/base_$1_$2.json"
}
bench_cmp() { # NAME WANT_STATUS WANT_OUTPUT_SUBSTRING BASELINE
  local out st
  out=$($ARES bench --compare "$tmp/mlp.json" --baseline "$4" --thresholds bench/thresholds 2>&1)
  st=$?
  if [ "$st" -eq "$2" ] && printf '%s' "$out" | grep -qF -- "$3"; then t_ok "$1"
  else t_fail "$1: exit status $st (expected $2) or no '$3'"; printf '%s\n' "$out" | tail -3 | sed 's/^/     /'; fi
}
if [ -f "$tmp/mlp.json" ]; then
  { cat bench/thresholds; echo "speed 3"; } >"$tmp/thresholds"
  t_expect "bench: unknown metric in the thresholds" 2 "thresholds' line $(($(wc -l <bench/thresholds) + 1)): unknown metric 'speed'" \
    $ARES bench --compare "$tmp/mlp.json" --baseline "$tmp/mlp.json" --thresholds "$tmp/thresholds"
  grep -v '^instructions' bench/thresholds >"$tmp/thresholds"
  t_expect "bench: a metric without a threshold" 2 "no threshold for 'instructions'" \
    $ARES bench --compare "$tmp/mlp.json" --baseline "$tmp/mlp.json" --thresholds "$tmp/thresholds"
  instr=$(awk '$1 == "\"instructions\":" { print $2 + 0; exit }' "$tmp/mlp.json")
  bench_cmp "bench: the same figures pass" 0 "ok   mlp: no regression against the baseline" "$tmp/mlp.json"
  bench_cmp "bench: fewer instructions in the baseline fail, named" 1 \
    "FAIL mlp: regression in instructions: $((instr / 2)) -> $instr (+" "$(baseline instructions half)"
  awk '/"layers"/ { l = 1 } l && !done && /"instructions": / { sub(/"instructions": [0-9]+/, "\"instructions\": 1"); done = 1 } { print }' \
    "$(baseline instructions half)" >"$tmp/base_layer.json"
  bench_cmp "bench: an instruction regression names the layer that grew most" 1 "; most: layer 0 '" "$tmp/base_layer.json"
  bench_cmp "bench: more instructions in the baseline pass as better" 0 \
    "instructions $((instr * 2)) -> $instr better (-50.00 %)" "$(baseline instructions double)"
  bench_cmp "bench: 0.5 % more instructions is within the 1 % threshold" 0 "worse, within the threshold" \
    "$(baseline instructions less0.5)"
  bench_cmp "bench: MACs must match exactly" 1 "FAIL mlp: regression in macs" "$(baseline macs plus1)"
  bench_cmp "bench: one byte more of the network's code fails" 1 "FAIL mlp: regression in network_code_bytes" \
    "$(baseline network_code_bytes minus1)"
  bench_cmp "bench: one byte more of the whole program is within its 2 %" 0 "worse, within the threshold" "$(baseline code_bytes minus1)"
  bench_cmp "bench: twice the whole program's code fails" 1 "FAIL mlp: regression in code_bytes" "$(baseline code_bytes half)"
  bench_cmp "bench: one L2 arena byte more fails" 1 "FAIL mlp: regression in l2_arena_bytes" "$(baseline l2_arena_bytes minus1)"
  bench_cmp "bench: compile time is not compared" 0 "ok   mlp: no regression against the baseline" "$(baseline compile_ms double)"
fi

# the supported-operations document is generated from the registry
if $ARES ops --markdown | cmp -s - docs/SUPPORTED_OPERATIONS.md; then t_ok "docs/SUPPORTED_OPERATIONS.md up to date"
else t_fail "docs/SUPPORTED_OPERATIONS.md differs from 'ares ops --markdown' (regenerate with make docs)"; fi
# ares check's migration advice is for operators outside the registry only (it is never shown
# for a registry op, so an entry naming one would be stale advice nobody reads)
stale=$(sed -n '/op_advice\[\] = {/,/^};/p' src/cli/check.c | sed -n 's/^ *{"\([A-Za-z]*\)",.*/\1/p' |
  while read -r op; do $ARES ops | grep -q "^onnx $op " && echo "$op"; done)
[ -z "$stale" ] && t_ok "check advice only for ops outside the registry" || t_fail "check advice for registry ops: $stale"

t_summary
