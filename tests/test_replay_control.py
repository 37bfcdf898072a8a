"""ReplayControl without a Runner: a real Fashion-MNIST loader through a
real pipeline, replayed stage by stage."""
import pytest
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpretrain.datasets import FashionMNIST
from torch.utils.data import DataLoader

from etpp_mm.data import ReplayLoader, sample_nbytes, to_compact
from etpp_mm.hooks import ReplayControl
from etpp_mm.attach.options import check_replay_cfg

SIZES = [(12, 12), (12, 12), (20, 20), (28, 28)]


def loader(root, count=24, batch_size=4):
    init_default_scope('mmpretrain')
    dataset = FashionMNIST(
        data_root=root,
        split='train',
        indices=count,
        pipeline=[
            dict(type='LowFrequencyDownsample', size=12),
            dict(type='PackInputs', meta_keys=('sample_idx', ))
        ])
    return DataLoader(dataset, batch_size=batch_size,
                      collate_fn=pseudo_collate)


def test_factors_per_stage_wrap_and_summary(fmnist_root):
    messages = []
    control = ReplayControl(
        dict(factors={12: 3, 20: 2}, buffer_samples=8), SIZES,
        log=messages.append)
    assert control.factors == [3, 3, 2, 1]
    train = control.wrap(loader(fmnist_root), seed=1)
    assert isinstance(train, ReplayLoader) and control.loader is train
    assert control.wrap(train) is train  # wrapped once
    assert '[3, 3, 2, 1] times per stage' in messages[0]

    assert control.enter_stage(0, epoch=0)
    batches = list(train)
    assert len(batches) == 6  # an epoch keeps its length
    assert train.loaded_batches == 2 and train.replayed_batches == 4
    fresh = {int(s.sample_idx) for s in batches[0]['data_samples']}
    replayed = {int(s.sample_idx) for s in batches[1]['data_samples']}
    assert replayed <= fresh  # drawn from what was loaded
    assert tuple(batches[1]['inputs'][0].shape) == (1, 12, 12)

    assert not control.enter_stage(0, epoch=1)
    assert len(train.buffer) == 8  # the same stage: the buffer is kept
    assert control.enter_stage(2, epoch=2)
    assert len(train.buffer) == 0  # a new stage: emptied
    assert train.factor == 2
    control.enter_stage(3, epoch=3)
    list(train)
    assert train.factor == 1
    assert control.summary() == 'replay: 8 batches loaded, 4 replayed'



def test_memory_check_names_the_bytes(fmnist_root):
    dataset = loader(fmnist_root).dataset
    messages = []
    control = ReplayControl(dict(factors=2, buffer_samples=1000), SIZES,
                            log=messages.append)
    made = []

    def make_sample(stage):
        made.append(stage)
        return dataset[0]

    control.check_memory(make_sample, processes=2, memory_bytes=2**30)
    assert made == [0, 1, 2, 3]
    per_sample = sample_nbytes(to_compact(dataset[0]))
    assert per_sample >= 12 * 12  # at least the 12x12 uint8 image
    assert f'(1000 samples x {per_sample} bytes x 2 process(es))' in \
        messages[0]
    with pytest.raises(ValueError) as info:
        control.check_memory(make_sample, processes=2, memory_bytes=100_000)
    assert 'lower EfficientTrainHook.replay.buffer_samples' in str(
        info.value)
    # no stage replays: nothing is measured
    made.clear()
    ReplayControl(dict(factors=1, buffer_samples=8),
                  SIZES).check_memory(make_sample)
    assert made == []


@pytest.mark.parametrize('replay, words', [
    ([2], ['must be a dict']),
    (dict(factor=2, buffer_samples=8), ['unknown keys', 'factor']),
    (dict(factors=2), ['buffer_samples', 'None']),
    (dict(factors=2, buffer_samples=8, max_memory_fraction=2),
     ['max_memory_fraction', '2']),
])
def test_bad_replay_arguments(replay, words):
    with pytest.raises((TypeError, ValueError)) as info:
        check_replay_cfg(replay)
    for word in words:
        assert word in str(info.value)


def test_factors_that_do_not_fit_the_stages():
    with pytest.raises(ValueError, match='EfficientTrainHook.replay.factors'):
        ReplayControl(dict(factors=[2, 1], buffer_samples=8), SIZES)


def test_auto_stages_count_in_the_memory_check_and_name_their_choice(
        fmnist_root):
    dataset = loader(fmnist_root).dataset
    messages = []
    control = ReplayControl(
        dict(factors={12: 1, 20: 'auto'}, buffer_samples=8, max_factor=3,
             auto_iters=2), SIZES, log=messages.append)
    assert control.factors == [1, 1, 'auto', 1]
    made = []

    def make_sample(stage):
        made.append(stage)
        return dataset[0]

    control.check_memory(make_sample, processes=1, memory_bytes=2**30)
    assert made == [2]  # the 'auto' stage may replay
    train = control.wrap(loader(fmnist_root), seed=0)
    assert "'auto' measures a stage's first 2 iterations" in messages[-1]
    assert train.max_factor == 3 and train.auto_iters == 2
    assert control.stage_factor(2) == 'auto'
    control.enter_stage(2, epoch=0)
    list(train)  # 6 iterations: 2 measured, then the choice
    assert control.stage_factor(2) == train.decided[2] == train.factor
    assert messages[-1].startswith(
        f'stage 3 (20x20): replay x{train.factor}: loader ')
    assert f"'auto' chose stage 3 (20x20) x{train.factor}" in \
        control.summary()


@pytest.mark.parametrize('key', ['max_factor', 'auto_iters'])
def test_bad_auto_settings(key):
    with pytest.raises(ValueError, match=f'replay.{key} must be a positive'):
        check_replay_cfg({'factors': 'auto', 'buffer_samples': 8, key: 0})
