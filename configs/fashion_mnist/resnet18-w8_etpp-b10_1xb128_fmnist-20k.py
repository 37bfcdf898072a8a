# The main job (run by tools/setup.sh): EfficientTrain++ at budget 10 (2/3
# of the 15-epoch recipe's compute) on the first 20,000 of the 60,000
# Fashion-MNIST train images, so that it finishes in about 3 minutes on 2
# CPU cores; evaluated on the full test split. batch_scale='auto' takes x4
# at 12 px here (157 optimizer steps an epoch, at least 32 kept).
# docs/benchmark_fmnist_pareto.md compares the recipe's batch, x2 and x5
# with the recipe and the recipe shortened to 10 epochs, four seeds;
# docs/benchmark_fmnist.md measured x5's speed on a quiet machine.
_base_ = ['./resnet18-w8_etpp-b10_1xb128_fmnist.py']
train_dataloader = dict(dataset=dict(indices=20000))
# Validation at 28 px reads low in the 12 px stages; every 5th epoch (and
# the last) is enough to follow the run.
train_cfg = dict(val_interval=5)
# a fixed seed, so that the README's figure can be reproduced
randomness = dict(seed=0)
