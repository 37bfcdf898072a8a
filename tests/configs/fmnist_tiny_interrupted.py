# fmnist_tiny.py stopped by an exception half-way through epoch 7 (the
# first epoch of stage 2), as a crash or a pre-empted job would.
_base_ = ['./fmnist_tiny.py']
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        stages=[
            dict(share=0.3, size=12, params=dict(StampLevel=dict(level=0))),
            dict(share=0.3, size=20, params=dict(StampLevel=dict(level=1))),
            dict(share=0.4, size=28, params=dict(StampLevel=dict(level=2))),
        ],
        budget=4),
    dict(type='ProbeHook'),
    dict(type='InterruptAtIter', at_iter=26),
]
