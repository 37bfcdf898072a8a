# The main job (run by tools/setup.sh): EfficientTrain++ at budget 10 (2/3
# of the 15-epoch recipe's compute) on the first 20,000 of the 60,000
# Fashion-MNIST train images, so that it finishes in about 3 minutes on 2
# CPU cores; evaluated on the full test split. docs/benchmark_fmnist.md
# compares this setting with the recipe, side by side, under its own seeds
# (tools/benchmark.py, the 'stage b10' variant).
_base_ = ['./resnet18-w8_etpp-b10_1xb128_fmnist.py']
train_dataloader = dict(dataset=dict(indices=20000))
# Validation at 28 px reads low in the 12 px stages; every 5th epoch (and
# the last) is enough to follow the run.
train_cfg = dict(val_interval=5)
# a fixed seed, so that the README's figure can be reproduced
randomness = dict(seed=0)
