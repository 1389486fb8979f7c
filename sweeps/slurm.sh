#!/bin/bash
# Run a sweep on a Slurm cluster: rank 0 coordinates, every other task trains.
#   sbatch sweeps/slurm.sh sweeps/fashion_mlp.yaml
#SBATCH --job-name=hpsweep
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=8        # with GPUs: one task per GPU (+1 on the first node for the coordinator)
#SBATCH --cpus-per-task=4
#SBATCH --time=04:00:00
set -euo pipefail
spec=${1:-sweeps/fashion_mlp.yaml}
export OPENBLAS_NUM_THREADS=$SLURM_CPUS_PER_TASK
srun hpsweep run "$spec" -o "$SLURM_SUBMIT_DIR/$(basename "$spec" .yaml)-$SLURM_JOB_ID.h5"
