#!/usr/bin/env bash
# Bad input, under ASan + UBSan (build/san/ares, `make SAN=1`): every model of the
# malformed corpus (tests/malformed/expected.txt, written by tests/malformed/generate.py)
# and every fuzzer find (tests/malformed/fuzz/expected.txt) must make `ares compile` exit 2
# with its exact message, no sanitizer report, no leak and no output directory; `ares check`
# must give its expected status (2: unreadable, 1: lists the nodes and names the problem).
# Also: `ares check` on every zoo network exits 0 and lists every node with status ok.
. "$(dirname "$0")/lib.sh"
make -s SAN=1 >/dev/null 2>&1 || { t_fail "make SAN=1"; t_summary; exit 1; }
ARES=build/san/ares
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99

# run_case DIR FILE MESSAGE CHECK_STATUS
run_case() {
  local dir=$1 f=$2 msg=$3 cst=$4
  local name=${dir#tests/}/$f
  $ARES compile "$dir/$f" -o "$tmp/out" >"$tmp/out.txt" 2>"$tmp/err.txt"
  local st=$?
  if grep -qE 'Sanitizer|runtime error' "$tmp/err.txt"; then
    t_fail "$name: sanitizer report"; grep -m3 -E 'ERROR|runtime error|SUMMARY' "$tmp/err.txt" | sed 's/^/     /'
  elif [ "$st" -ne 2 ]; then
    t_fail "$name: compile exit status $st, expected 2"; tail -3 "$tmp/err.txt" | sed 's/^/     /'
  elif ! grep -qF -- "$msg" "$tmp/err.txt"; then
    t_fail "$name: message lacks '$msg'"; tail -3 "$tmp/err.txt" | sed 's/^/     /'
  else
    t_ok "$name: compile"
  fi
  if [ -e "$tmp/out" ] || ls "$tmp" | grep -q ares-tmp; then t_fail "$name: partial output left"; rm -rf "$tmp"/out*; fi
  [ -n "$cst" ] || return 0
  # ares check: the message without its "node 'X' (Op): " prefix appears in the node's row
  local tail=$msg
  case $msg in "node '"*) tail=${msg#*): } ;; esac
  $ARES check "$dir/$f" >"$tmp/out.txt" 2>"$tmp/err.txt"
  st=$?
  if grep -qE 'Sanitizer|runtime error' "$tmp/err.txt"; then
    t_fail "$name: check: sanitizer report"; grep -m3 -E 'ERROR|runtime error|SUMMARY' "$tmp/err.txt" | sed 's/^/     /'
  elif [ "$st" -ne "$cst" ]; then
    t_fail "$name: check exit status $st, expected $cst"; tail -3 "$tmp/out.txt" "$tmp/err.txt" | sed 's/^/     /'
  elif ! cat "$tmp/out.txt" "$tmp/err.txt" | grep -qF -- "$tail"; then
    t_fail "$name: check output lacks '$tail'"; tail -3 "$tmp/out.txt" | sed 's/^/     /'
  else
    t_ok "$name: check"
  fi
}

for dir in tests/malformed tests/malformed/fuzz; do
  [ -f "$dir/expected.txt" ] || continue
  while IFS='|' read -r f msg cst; do
    case $f in "#"* | "") continue ;; esac
    if [ ! -f "$dir/$f" ]; then t_fail "$dir/$f: missing"; continue; fi
    run_case "$dir" "$f" "$msg" "$cst"
  done <"$dir/expected.txt"
done
# every file of the corpus is listed (a file without an expected error is a test nobody runs)
for f in tests/malformed/*.onnx tests/malformed/fuzz/crash-*; do
  [ -f "$f" ] || continue
  grep -q "^$(basename "$f")|" "$(dirname "$f")/expected.txt" || t_fail "$f is not in expected.txt"
done

# ares check on an unsupported op names it with advice; on the overflow, the range proof
t_expect "check: advice for ConvTranspose" 1 "" $ARES check tests/malformed/unsupported_op.onnx
$ARES check tests/malformed/unsupported_op.onnx 2>&1 | grep -q "advice: ARES has no transposed convolution" &&
  t_ok "check: ConvTranspose advice shown" || t_fail "check: ConvTranspose advice shown"
$ARES check tests/malformed/acc_overflow.onnx 2>&1 | grep -qE "^fc +Gemm +UNSUPPORTED .*range proof failed" &&
  t_ok "check: range-proof refusal shown on the node" || t_fail "check: range-proof refusal shown on the node"

# ares check on the zoo: exit 0, every node listed and ok (or warning), headroom shown
for f in tests/zoo/*/model*.onnx; do
  case $f in *resnet18*) continue ;; esac # 11-45 MB: covered by the release build below
  if ! $ARES check "$f" >"$tmp/check.txt" 2>&1; then t_fail "check $f: exit status $?"; tail -3 "$tmp/check.txt"; continue; fi
  n=$(sed -n 's/.*opset [0-9]*, \([0-9]*\) nodes$/\1/p' "$tmp/check.txt")
  rows=$(grep -cE ' (ok|warning) ' "$tmp/check.txt")
  if [ -n "$n" ] && [ "$rows" -eq "$n" ] && grep -q "summary: $n nodes: .*the model compiles" "$tmp/check.txt" &&
    grep -q "accumulator headroom" "$tmp/check.txt"; then
    t_ok "check $f: $n nodes"
  else
    t_fail "check $f: $rows rows for ${n:-?} nodes"; tail -3 "$tmp/check.txt"
  fi
done
for f in tests/zoo/resnet18/model*.onnx; do
  [ -f "$f" ] || continue
  t_expect "check $f (release build)" 0 "" build/ares check "$f"
done

t_summary
