# ResNet-18 with the CIFAR-style stem (3x3 conv, no max-pool) for 28x28
# greyscale inputs, at 1/8 of the usual width (8 base channels) so that a
# Fashion-MNIST epoch takes about a minute on 2 CPU cores.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        in_channels=1,
        stem_channels=8,
        base_channels=8,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
    ))
