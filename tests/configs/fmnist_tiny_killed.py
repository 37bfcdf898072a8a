# fmnist_tiny_seeded.py killed with SIGKILL just before iteration 26, inside
# epoch 7 (the first epoch of stage 2; last checkpoint: epoch 6).
_base_ = ['./fmnist_tiny_seeded.py']
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        stages=[
            dict(share=0.3, size=12, params=dict(StampLevel=dict(level=0))),
            dict(share=0.3, size=20, params=dict(StampLevel=dict(level=1))),
            dict(share=0.4, size=28, params=dict(StampLevel=dict(level=2))),
        ],
        budget=4),
    dict(type='KillAtIter', at_iter=26),
]
