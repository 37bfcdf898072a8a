#!/usr/bin/env bash
# Train on a SLURM cluster, one task per GPU; MMPretrain's
# tools/slurm_train.sh arguments:
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [args...]
# GPUS (all tasks, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK
# (default 5) and SRUN_ARGS (extra srun options) come from the environment;
# e.g. the MAE recipe (8 GPUs x 512 = 4096 images a step) on 4 nodes of
# 8 GPUs, 128 images per GPU keeping its 4096:
#   GPUS=32 bash tools/slurm_train.sh PART mae CONFIG work_dirs/mae \
#       --cfg-options train_dataloader.batch_size=128
set -euo pipefail
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python3}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

# SRUN_ARGS is split into words on purpose: it holds several options
# shellcheck disable=SC2086
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher=slurm "${@:5}"
