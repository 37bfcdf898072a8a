# fmnist_tiny.py as a deterministic run (seed 0), for the resume tests.
_base_ = ['./fmnist_tiny.py']
randomness = dict(seed=0, deterministic=True)
