# fmnist_tiny.py (the recipe's batch, no batch_scale) killed with SIGKILL
# before iteration 9 (an epoch start at one process).
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
    dict(type='KillAtIter', at_iter=9),
]
