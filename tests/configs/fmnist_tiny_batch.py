# fmnist_tiny.py with early large batch: x4 at 12 px, x2 at 20 px.
_base_ = ['./fmnist_tiny.py']
custom_hooks = [
    dict(
        type='EfficientTrainHook',
        stages=[
            dict(share=0.3, size=12, params=dict(StampLevel=dict(level=0))),
            dict(share=0.3, size=20, params=dict(StampLevel=dict(level=1))),
            dict(share=0.4, size=28, params=dict(StampLevel=dict(level=2))),
        ],
        budget=4,
        batch_scale={12: 4, 20: 2}),
    dict(type='ProbeHook'),
]
