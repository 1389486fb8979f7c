#!/usr/bin/env bash
# Install what hpsweep needs on Debian (bookworm) when it is missing. Idempotent; run as root
# (or with sudo available). `--test` adds what the test suite uses (h5py, pandas for the
# results-file checks, /usr/bin/time for the memory check, clang and its OpenMP for the fuzz
# targets, chromium for the report page in a real browser); `--bench` adds PyTorch for the
# benchmarks' reference figures and Optuna for bench/search_efficiency.py.
set -euo pipefail

pkgs=(cmake gcc make pkg-config libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools libyaml-dev libcairo2-dev
      libopenblas-dev zlib1g-dev netbase dataset-fashion-mnist)
for arg in "$@"; do
  case "$arg" in
    --test) pkgs+=(python3 python3-h5py python3-pandas python3-numpy python3-torch procps time clang libomp-dev chromium) ;;
    --bench) pkgs+=(python3 python3-torch python3-numpy python3-optuna) ;;
    *) echo "setup.sh: unknown option '$arg' (valid: --test, --bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup.sh: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "setup.sh: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup.sh: not root and no sudo: install ${missing[*]} by hand" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
