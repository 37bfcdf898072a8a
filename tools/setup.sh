#!/usr/bin/env bash
# One command from a fresh machine to a trained model:
#   1. the pinned stack (torch 2.14.1 + torchvision 0.29.1, mmengine 0.10.7,
#      mmcv-lite 2.2.0, mmpretrain 1.2.0, setuptools<81) and etpp-mm itself,
#      into $PYTHON (default: python3). torch and torchvision are installed
#      only when missing: an existing torch (e.g. a CUDA build) is kept as it
#      is. Full mmcv, when present, is kept too and mmcv-lite is not added
#      (setup.py picks whichever is installed). setuptools<81 because
#      MMEngine 0.10 reads `mmpretrain::` config paths with pkg_resources;
#   2. Fashion-MNIST from Debian's dataset-fashion-mnist package, and the
#      Debian photos set (docs/debian_photos.md) from the photographs of
#      mate-backgrounds and lomiri-wallpapers-16.04 (62 MB of downloads);
#   3. the main job: EfficientTrain++ on Fashion-MNIST (skip with
#      ETPP_SKIP_MAIN_JOB=1).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
FMNIST=/usr/share/datasets/fashion-mnist

# the Debian packages whose files are missing, installed in one go
DEBS=()
[ -f "$FMNIST/train-images-idx3-ubyte.gz" ] || DEBS+=(dataset-fashion-mnist)
[ -f /usr/share/backgrounds/mate/nature/Aqua.jpg ] || DEBS+=(mate-backgrounds)
[ -f /usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg ] ||
    DEBS+=(lomiri-wallpapers-16.04)
if [ ${#DEBS[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${DEBS[@]}"
    else
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${DEBS[@]}"
    fi
fi

installed() {
    "$PYTHON" -c "import importlib.metadata as m, sys
try:
    m.distribution(sys.argv[1])
except m.PackageNotFoundError:
    sys.exit(1)" "$1"
}

if installed torch; then
    TORCH="torch==$("$PYTHON" -c "import importlib.metadata as m
print(m.version('torch'))")"
    echo "setup.sh: keeping the installed $TORCH"
else
    TORCH=torch==2.14.1
    "$PYTHON" -m pip install -q "$TORCH"
fi
if installed torchvision; then
    echo "setup.sh: keeping the installed torchvision"
elif [ "$TORCH" = torch==2.14.1 ]; then
    "$PYTHON" -m pip install -q torchvision==0.29.1
else
    # a torchvision built for the torch that is there, which stays
    "$PYTHON" -m pip install -q torchvision "$TORCH"
fi
MMCV=mmcv-lite==2.2.0
if installed mmcv; then
    MMCV=  # full mmcv is there: never install mmcv-lite beside it
fi
"$PYTHON" -m pip install -q mmengine==0.10.7 $MMCV mmpretrain==1.2.0 \
    'setuptools<81' scikit-image matplotlib pytest
"$PYTHON" -m pip install -q --no-build-isolation -e .

"$PYTHON" tools/prepare_data.py fashion-mnist
"$PYTHON" tools/prepare_data.py debian-photos

if [ "${ETPP_SKIP_MAIN_JOB:-0}" != 1 ]; then
    "$PYTHON" tools/train.py \
        configs/fashion_mnist/resnet18-w8_etpp-b10_1xb128_fmnist-20k.py
fi
