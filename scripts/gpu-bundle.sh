#!/usr/bin/env bash
# gpu-bundle.sh BUILD_DIR OUT_DIR [--data | --no-data]
#
# Packs a CUDA build for a GPU machine that lacks this project's Debian libraries (Ubuntu, CUDA
# driver, cuDNN/cuBLAS in Python wheels, its own Open MPI): OUT_DIR/hps.tar.xz holds bin/ (hpsweep,
# test_*, bench_*, libhpsweep_cuda.so and any extra modules), lib/ (every shared library those need
# except glibc, the C++ runtime, CUDA/cuDNN and the MPI stack) and data/ (Fashion-MNIST from
# /usr/share/datasets/fashion-mnist: by default when present, always with --data, never with
# --no-data); OUT_DIR/run.sh runs a command there with that environment:
#
#   bash OUT_DIR/run.sh 'hpsweep train sweeps/fashion_cnn.yaml --device cuda --epochs 2'
#
# HPSWEEP_EXTRA_MODULES="a.so b.so" adds more modules to bin/ under their own names: e.g. the
# libhpsweep_cuda.so of a build configured with -DHPSWEEP_PLANT_ERROR=ON, copied to
# libhpsweep_cuda_planted_dw.so, for scripts/gpu-check.sh's planted step.
# run.sh unpacks into /tmp/hps (again whenever the bundle changed), puts /tmp/hps/bin first on
# PATH, the bundled libraries and the machine's cuDNN/cuBLAS/cudart on LD_LIBRARY_PATH, sets
# HPSWEEP_CUDA_MODULE and the Open MPI variables for root, installs the data if missing, and runs
# the command with bash -c in the directory it was called from.
set -euo pipefail
usage() { sed -n '2,3p' "$0" | cut -c3-; }
die() { echo "gpu-bundle.sh: $*" >&2; exit 2; }
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { sed -n '2,19p' "$0" | cut -c3-; exit 0; }
[ $# -ge 2 ] || { usage >&2; exit 2; }
build=$1 out=$2 data=auto fm=/usr/share/datasets/fashion-mnist
for a in "${@:3}"; do
  case $a in --data) data=yes ;; --no-data) data=no ;; *) die "unknown option '$a'" ;; esac
done
[ -x "$build/orchestrator/hpsweep" ] || die "$build/orchestrator/hpsweep missing: not a build folder"
module=$(find "$build" -name libhpsweep_cuda.so -type f ! -path '*/CMakeFiles/*' | head -n1)
[ -n "$module" ] || die "no libhpsweep_cuda.so under $build: configure with -DHPSWEEP_CUDA=ON"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$out"
# Programs: ELF executables named hpsweep, test_*, bench_* (not the emulation's hpsweep_gpuemul).
while IFS= read -r f; do
  if [ "$(head -c4 "$f" | tail -c3)" = ELF ]; then cp "$f" "$stage/bin/"; fi
done < <(find "$build" -type f -perm -u+x \( -name hpsweep -o -name 'test_*' -o -name 'bench_*' \) \
           ! -path '*/CMakeFiles/*')
cp "$module" "$stage/bin/"
for m in ${HPSWEEP_EXTRA_MODULES:-}; do
  [ -f "$m" ] || die "HPSWEEP_EXTRA_MODULES: no file $m"
  [ "$(basename "$m")" != libhpsweep_cuda.so ] || die "HPSWEEP_EXTRA_MODULES: $m would replace the real module; rename it"
  cp "$m" "$stage/bin/$(basename "$m")"
done

# Libraries ldd resolves, less those the GPU machine has its own of (or must use its own of).
keep_out='/(ld-linux[^/]*|lib(c|m|dl|rt|pthread|resolv|stdc\+\+|gcc_s)\.so[^/]*)$'
keep_out+='|/usr/local/cuda|libhpsweep_cuda|/lib(cudart|cublas|cublasLt|cudnn[a-z_]*|cuda|nvrtc)\.so'
keep_out+='|/lib(mpi|open-rte|open-pal|pmix|mca_common|oshmem|hwloc|event|fabric|uc[pmst]|psm|ibverbs|rdmacm|nl-|efa|numa|munge|infinipath|udev)'
missing=$(ldd "$stage"/bin/* 2>/dev/null | grep 'not found' | grep -vE 'lib(cudart|cublas|cublasLt|cudnn)' | sort -u || true)
[ -z "$missing" ] || echo "gpu-bundle.sh: warning: unresolved here: $missing" >&2
ldd "$stage"/bin/* 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u | grep -vE "$keep_out" |
  while IFS= read -r l; do cp -L "$l" "$stage/lib/"; done

if [ "$data" = yes ] || { [ "$data" = auto ] && [ -f "$fm/train-images-idx3-ubyte.gz" ]; }; then
  [ -f "$fm/train-images-idx3-ubyte.gz" ] || die "--data: no Fashion-MNIST in $fm"
  mkdir -p "$stage/data" && cp "$fm"/*.gz "$stage/data/"
fi
XZ_OPT=${XZ_OPT:--T0} tar -C "$stage" -cJf "$out/hps.tar.xz" .
stamp=$(sha256sum "$out/hps.tar.xz" | cut -c1-16)

cat > "$out/run.sh" <<'EOF'
#!/usr/bin/env bash
# run.sh 'COMMAND': run COMMAND with the bundled hpsweep (scripts/gpu-bundle.sh wrote this).
here=$(cd "$(dirname "$0")" && pwd)
D=/tmp/hps
stamp=@STAMP@
if [ "$(cat $D/.stamp 2>/dev/null)" != "$stamp" ]; then
  rm -rf $D && mkdir -p $D && tar -C $D -xJf "$here/hps.tar.xz" || { echo "run.sh: cannot unpack $here/hps.tar.xz" >&2; exit 1; }
  # the machine's CUDA libraries (system or Python wheels), looked up once per unpack
  find /usr/local /opt /usr/lib -maxdepth 9 \( -name 'libcudnn.so.9' -o -name 'libcublas.so.13' \
    -o -name 'libcublasLt.so.13' -o -name 'libcudart.so.13' \) 2>/dev/null | xargs -r -n1 dirname | sort -u |
    tr '\n' ':' > $D/.cudalibs
  echo "$stamp" > $D/.stamp
fi
fm=/usr/share/datasets/fashion-mnist
if [ -d $D/data ] && [ ! -f $fm/train-images-idx3-ubyte.gz ]; then mkdir -p $fm && cp $D/data/*.gz $fm/; fi
export PATH=$D/bin:$PATH HPSWEEP_CUDA_MODULE=$D/bin/libhpsweep_cuda.so
export LD_LIBRARY_PATH=$D/bin:$D/lib:$(cat $D/.cudalibs)${LD_LIBRARY_PATH:-}
LD_LIBRARY_PATH=${LD_LIBRARY_PATH%:}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mca_base_component_show_load_errors=0
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_btl_vader_single_copy_mechanism=none
exec bash -c "$1"
EOF
sed -i "s/@STAMP@/$stamp/" "$out/run.sh"
chmod +x "$out/run.sh"
echo "gpu-bundle.sh: $(du -sh "$out/hps.tar.xz" | cut -f1) in $out/hps.tar.xz ($(ls "$stage/bin" | wc -l) programs and modules, $(ls "$stage/lib" | wc -l) libraries$([ -d "$stage/data" ] && echo ', Fashion-MNIST')), run with: bash $out/run.sh 'COMMAND'"
