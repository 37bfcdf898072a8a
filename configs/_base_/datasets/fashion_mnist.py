# Fashion-MNIST (28x28 greyscale) read by MMPretrain's own FashionMNIST
# dataset. Fill data/fashion_mnist with `python tools/prepare_data.py
# fashion-mnist` first.
dataset_type = 'FashionMNIST'
data_root = 'data/fashion_mnist'
data_preprocessor = dict(
    num_classes=10,
    # Fashion-MNIST statistics on the 0-255 scale.
    mean=[72.94],
    std=[90.02],
    to_rgb=False)

train_pipeline = [
    dict(type='RandomCrop', crop_size=28, padding=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

# One loader process beside the trainer (run it with OMP_NUM_THREADS=1 on a
# 2-core machine), kept across epochs, sending stacked batches: a list of
# per-sample tensors costs 590-780 us per image to move between processes,
# one stacked batch 29-35 us. In two benchmark runs on 2 cores with one
# torch thread (docs/benchmark_fmnist.md with it,
# docs/benchmark_fmnist_main_process.md without), the recipe took 4.5
# against 5.0 min, the curriculum at budget 10 3.1 against 3.9 min.
train_dataloader = dict(
    batch_size=128,
    num_workers=1,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        download=False,
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        # MMPretrain 1.2's MNIST reads the test files only in test mode
        test_mode=True,
        download=False,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
