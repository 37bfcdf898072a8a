#!/usr/bin/env bash
# One command from a fresh machine to a trained model:
#   1. the pinned stack (torch 2.14.1 + torchvision 0.29.1, mmengine 0.10.7,
#      mmcv-lite 2.2.0, mmpretrain 1.2.0, setuptools<81) and etpp-mm itself;
#   2. Fashion-MNIST from Debian's dataset-fashion-mnist package;
#   3. the main job: EfficientTrain++ on Fashion-MNIST (skip with
#      ETPP_SKIP_MAIN_JOB=1).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
FMNIST=/usr/share/datasets/fashion-mnist

if [ ! -f "$FMNIST/train-images-idx3-ubyte.gz" ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
    else
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
    fi
fi

"$PYTHON" -m pip install -q torch==2.14.1 torchvision==0.29.1
"$PYTHON" -m pip install -q mmengine==0.10.7 mmcv-lite==2.2.0 mmpretrain==1.2.0 \
    'setuptools<81' scikit-image matplotlib pytest
"$PYTHON" -m pip install -q --no-build-isolation -e .

"$PYTHON" tools/prepare_data.py fashion-mnist

if [ "${ETPP_SKIP_MAIN_JOB:-0}" != 1 ]; then
    "$PYTHON" tools/train.py \
        configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist-20k.py
fi
