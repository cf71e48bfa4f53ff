#!/usr/bin/env bash
# Installs whatever is missing for building and testing ARES: Debian packages (as root)
# and a Python 3.11 venv in .venv with the pinned requirements. Idempotent and quiet
# when everything is already there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# rv32: the cross compiler with picolibc, and QEMU (qemu-system-riscv32 is in qemu-system-misc);
# ccache: the test suite builds hundreds of generated projects that share the runtime sources
apt_pkgs=(libonnx-dev protobuf-c-compiler libprotobuf-c-dev make gcc libonnx-testdata
          gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc ccache)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install ${missing[*]} (run as root or install them yourself)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "${missing[@]}" >/dev/null
fi

if [ "${ARES_NO_PYTHON:-0}" != "1" ]; then
  venv="$root/.venv"
  py=""
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2]==(3,11) else 1)' 2>/dev/null; then
      py="$(command -v "$c")"; break
    fi
  done
  if [ -z "$py" ]; then echo "setup: Python 3.11 not found on PATH" >&2; exit 1; fi
  stamp="$venv/.requirements.stamp"
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv"
    "$py" -m venv "$venv"
  fi
  if ! cmp -s "$root/requirements.txt" "$stamp" 2>/dev/null; then
    echo "setup: installing Python requirements into .venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/requirements.txt" 2>&1 \
      | grep -v "is ignored: it is neither a file nor a directory" || true
    "$venv/bin/python" -c 'import torch, brevitas, onnx, onnxruntime, numpy, pytest' 
    cp "$root/requirements.txt" "$stamp"
  fi
fi

make -s -C "$root" >/dev/null
