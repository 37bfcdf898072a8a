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

# One loader process beside the trainer, kept across epochs, sending
# stacked batches: a list of per-sample tensors costs 590-780 us per image
# to move between processes, one stacked batch 29-35 us. With one torch
# thread (the benchmarks' setting) it hides the loading that does not
# shrink with the image: the curriculum at budget 10 took 3.1-3.3 min with
# it against 3.9 without, the recipe 4.5-4.7 against 5.0
# (docs/benchmark_fmnist.md, docs/benchmark_fmnist_main_process.md). With
# torch's default two threads on 2 cores it shares them with the model:
# the main job took 172 s with it, 164 s without (one run each).
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
