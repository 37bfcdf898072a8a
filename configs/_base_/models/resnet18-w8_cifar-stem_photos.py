# ResNet-18 with the CIFAR-style stem (3x3 conv, no max-pool) for small RGB
# photos (64 px: 8x8 features after the last stage), at 1/8 of the usual
# width (8 base channels), 26 classes (Debian photos).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        in_channels=3,
        stem_channels=8,
        base_channels=8,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=26,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ))
