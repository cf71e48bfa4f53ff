#!/usr/bin/env bash
# Real 32-bit RISC-V: every zoo network on qemu-system-riscv32 with 8 harts as the
# cluster's cores (bit-exact against the reference, with per-layer instruction counts from
# a one-hart -icount run; the QCDQ exports through `ares bench`, whose figures must not
# regress against bench/baseline.json); and the GAP9 / Siracusa projects: complete, and
# their network and kernels compile with riscv64-unknown-elf-gcc for rv32imc.
. "$(dirname "$0")/lib.sh"

# QCDQ exports: `ares bench` validates each on 8 harts, counts its instructions on one and
# compares its figures with the committed baseline; its "ok   ..." / "FAIL ..." lines count
"$ARES" bench tests/zoo --baseline bench/baseline.json >"$tmp/bench.log" 2>"$tmp/bench.err"
st=$?
while IFS= read -r line; do
  case "$line" in
  "ok   "*) t_ok "${line#ok   }" ;;
  "FAIL "*) t_fail "${line#FAIL }" ;;
  *) echo "$line" ;;
  esac
done <"$tmp/bench.log"
if grep -q '^FAIL ' "$tmp/bench.log" || [ "$st" -ne 0 ]; then
  [ "$st" -ne 0 ] && ! grep -q '^FAIL ' "$tmp/bench.log" && t_fail "ares bench tests/zoo: exit status $st"
  tail -8 "$tmp/bench.err" | sed 's/^/     /'
fi

# QONNX exports: the same networks through the other front end
for f in tests/zoo/*/model.qonnx.onnx; do
  [ -f "$f" ] || continue
  n=${f#tests/zoo/}
  if "$ARES" run "$f" --target rv32 >"$tmp/run.log" 2>&1; then
    t_ok "$n on 8 rv32 harts: $(grep -o 'rv32: .*' "$tmp/run.log")"
  else
    t_fail "$n on rv32"; tail -6 "$tmp/run.log" | sed 's/^/     /'
  fi
done

for target in gap9 siracusa; do
  for f in tests/zoo/resnet_basic/model.onnx tests/zoo/depthwise/model.qonnx.onnx tests/zoo/mlp/model.onnx; do
    d="$tmp/$target-$(basename "$(dirname "$f")")"
    if "$ARES" compile "$f" --target $target -o "$d" --input "$(dirname "$f")/input.npy" 2>"$tmp/c.log" &&
       [ -f "$d/main_chip.c" ] && [ -f "$d/input_data.c" ] && [ -f "$d/Makefile" ] && make -s -C "$d" kernels-check >"$tmp/k.log" 2>&1; then
      t_ok "$target project for ${f#tests/zoo/} is complete and compiles for rv32imc"
    else
      t_fail "$target project for ${f#tests/zoo/}"; cat "$tmp/c.log" "$tmp/k.log" 2>/dev/null | tail -5
    fi
  done
done
t_summary
