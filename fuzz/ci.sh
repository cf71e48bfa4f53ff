#!/usr/bin/env bash
# The fuzz job: installs clang (Debian clang-14 + libclang-rt-14-dev) when missing, builds
# the libFuzzer harness under ASan/UBSan, replays every committed model and regression file
# once (deterministic), then fuzzes for FUZZ_SECONDS (default 60). Ends with the usual
# "N passed, N failed" line. scripts/test.sh runs it for 30 s as CI's bounded smoke; longer
# runs (FUZZ_SECONDS=600 bash fuzz/ci.sh, or make -C fuzz run) are for hunting.
set -u
cd "$(dirname "$0")/.."
pkgs=(clang-14 libclang-rt-14-dev)
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    [ "$(id -u)" -eq 0 ] || { echo "fuzz: need root to install ${pkgs[*]}"; echo "0 passed, 1 failed"; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
  fi
done
pass=0 fail=0
if make -s -C fuzz >/dev/null && make -s -C fuzz "$PWD/build/fuzz/seeds" >/dev/null; then pass=$((pass + 1)); else echo "FAIL build"; echo "0 passed, 1 failed"; exit 1; fi
extra=()
[ -d tests/malformed/fuzz ] && extra=(tests/malformed/fuzz)
if build/fuzz/fuzz_import -runs=0 build/fuzz/seeds "${extra[@]}" >build/fuzz/replay.log 2>&1; then
  pass=$((pass + 1)); echo "ok   replay of the committed corpus"
else
  fail=$((fail + 1)); echo "FAIL replay of the committed corpus"; tail -20 build/fuzz/replay.log
fi
if make -s -C fuzz smoke FUZZ_SECONDS="${FUZZ_SECONDS:-60}" >build/fuzz/smoke.log 2>&1; then
  pass=$((pass + 1)); echo "ok   fuzz for ${FUZZ_SECONDS:-60} s: $(grep -o 'number_of_executed_units: [0-9]*' build/fuzz/smoke.log)"
else
  fail=$((fail + 1)); echo "FAIL fuzz smoke (artifact in build/fuzz/)"; grep -m5 -E 'ERROR|runtime error|SUMMARY' build/fuzz/smoke.log
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
