#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs the C unit tests
# (under ASan/UBSan), the command-line and fault-injection tests, the zoo end to end on
# host, and the Python tests. Closes with one "total: N passed, N failed" line.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh || { echo "setup failed"; echo "total: 0 passed, 1 failed"; exit 1; }

# every generated project carries the same runtime sources: compile each once, through
# ccache (keyed on the preprocessed source and the flags, so an edited file recompiles)
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_DIR="$root/build/ccache" CC="ccache cc" RV_CC="ccache riscv64-unknown-elf-gcc"
fi

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
suite() {
  local name=$1
  shift
  echo "== $name"
  local t0=$SECONDS
  "$@" 2>&1 | tee "$log"
  local st=${PIPESTATUS[0]}
  echo "== $name: $((SECONDS - t0)) s"
  # add up every "N passed, N failed" line the suite printed
  local p f
  p=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
  f=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$log" | awk '{s += $3} END {print s + 0}')
  if [ "$name" = python ]; then
    p=$(grep -Eo '[0-9]+ passed' "$log" | tail -1 | awk '{print $1 + 0}')
    f=$(grep -Eo '[0-9]+ failed' "$log" | tail -1 | awk '{print $1 + 0}')
    p=${p:-0}
    f=${f:-0}
  fi
  if [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # a suite that crashed counts as a failure
  passed=$((passed + p))
  failed=$((failed + f))
}

suite unit make -s -C tests/unit test
suite cli bash tests/test_cli.sh
suite malformed bash tests/test_malformed.sh
suite conformance build/ares conformance /usr/share/libonnx-testdata/data/node
suite qoperator bash tests/test_qoperator.sh
suite fault-injection bash tests/test_fault_injection.sh
suite zoo bash tests/test_zoo.sh
suite cluster bash tests/test_cluster.sh
suite rv32 bash tests/test_rv32.sh
suite fuzz-smoke env FUZZ_SECONDS=30 bash fuzz/ci.sh
suite python bash -c 'cd python && ../.venv/bin/python -m pytest -q -n auto --durations=15 tests'

echo
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
