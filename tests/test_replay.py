"""Replay of loaded samples: pairing (with real DataLoader workers), memory
and file descriptors, the automatic factor, schedules, resume and DDP, on
real Fashion-MNIST through the project's launchers."""
import json
import math
import os
import os.path as osp
import re
import sys
import time

import numpy as np
import pytest
import torch
from conftest import ROOT, load_probe, run_tool, train
from mmengine.dataset import default_collate, pseudo_collate
from mmpretrain.datasets import FashionMNIST, PackInputs
from mmpretrain.models import ClsDataPreprocessor
from torch.utils.data import DataLoader

from etpp_mm.data import (AutoReplayFactor, ReplayBuffer, ReplayLoader,
                          balancing_replay_factor, replay_factors,
                          sample_nbytes)

CONFIGS = osp.join(ROOT, 'tests', 'configs')
TINY = osp.join(CONFIGS, 'fmnist_tiny.py')
# fmnist_tiny.py with replay: each epoch in the stage it starts in (the
# buffers hold one size), compute counted per batch. An epoch costs 0.184
# equivalent epochs at 12 px, 0.510 at 20, 1 at 28 (budget 4; stages end
# at 1.2 and 2.4): 7 epochs at 12 px (to 1.286), 3 at 20 (to 2.816), one
# at 28 (3.816) and the batch that reaches 4.
TINY_REPLAY_EPOCH_SIZES = [12] * 7 + [20] * 3 + [28] * 2
REPLAY = [
    '--cfg-options', 'custom_hooks.0.replay.factors=[4,2,1]',
    'custom_hooks.0.replay.buffer_samples=32'
]


@pytest.fixture(scope='module')
def replay_runs(tmp_path_factory, fmnist_root):
    """fmnist_tiny.py with replay, trained whole, and trained in two parts
    (interrupted before iteration 26, then resumed): (stdout, work dir) of
    the whole run, the interrupted part and the resumed part. Shared by
    the tests below, which only read them."""
    root = tmp_path_factory.mktemp('replay_runs')
    whole = train(TINY, root / 'whole', *REPLAY).stdout
    parts = root / 'parts'
    first = train(
        osp.join(CONFIGS, 'fmnist_tiny_interrupted.py'),
        parts,
        *REPLAY,
        check=False).stdout
    resumed = train(TINY, parts, '--resume', *REPLAY).stdout
    return dict(whole=(whole, root / 'whole'), first=(first, parts),
                resumed=(resumed, parts))


def fmnist(root, count):
    return FashionMNIST(
        data_root=root,
        split='train',
        indices=count,
        pipeline=[dict(type='PackInputs', meta_keys=('sample_idx', ))])


def test_replayed_samples_keep_their_image_and_label(fmnist_root):
    dataset = fmnist(fmnist_root, 64)
    loader = DataLoader(
        dataset, batch_size=8, shuffle=True, collate_fn=pseudo_collate)
    replay = ReplayLoader(loader, capacity=24, factor=3, seed=0)
    batches = list(replay)
    assert len(batches) == len(loader) == 8
    assert replay.loaded_batches == math.ceil(8 / 3) == 3
    assert replay.replayed_batches == 5
    seen_fresh = set()
    for step, batch in enumerate(batches):
        indices = [s.metainfo['sample_idx'] for s in batch['data_samples']]
        if step % 3 == 0:
            seen_fresh.update(indices)
        else:  # replayed: only samples already loaded
            assert set(indices) <= seen_fresh
        for image, sample in zip(batch['inputs'], batch['data_samples']):
            raw = dataset.get_data_info(sample.metainfo['sample_idx'])
            assert torch.equal(image[0], torch.from_numpy(raw['img']))
            assert int(sample.gt_label) == raw['gt_label']
    # replayed batches mix samples of different loaded batches
    replayed = [
        {s.metainfo['sample_idx'] // 8 for s in b['data_samples']}
        for i, b in enumerate(batches) if i % 3
    ]
    assert any(len(groups) > 1 for groups in replayed)


def check_mixup_within_batch(batch):
    """MMPretrain's Mixup, run in the data preprocessor on a batch the
    replay loader gave, mixes each sample's class only with those of its
    partners from the same batch."""
    preprocessor = ClsDataPreprocessor(
        num_classes=10,
        mean=[0.],
        std=[255.],
        batch_augments=dict(augments=dict(type='Mixup', alpha=1.0)))
    torch.manual_seed(0)
    labels = [int(s.gt_label) for s in batch['data_samples']]
    data = preprocessor(batch, training=True)
    scores = torch.stack([s.gt_score for s in data['data_samples']])
    for row, label in zip(scores, labels):
        assert row.sum() == pytest.approx(1.0, abs=1e-5)
        assert row[label] > 0
        assert set(row.nonzero().flatten().tolist()) <= set(labels)


def test_mixup_runs_after_the_replay_mixing(fmnist_root):
    dataset = fmnist(fmnist_root, 32)
    loader = DataLoader(dataset, batch_size=8, collate_fn=pseudo_collate)
    replay = ReplayLoader(loader, capacity=32, factor=2, seed=0)
    batches = list(replay)
    check_mixup_within_batch(batches[1])  # a replayed batch


def test_buffer_memory_stays_within_its_bound(fmnist_root):
    dataset = fmnist(fmnist_root, 96)
    loader = DataLoader(dataset, batch_size=16, collate_fn=pseudo_collate)
    replay = ReplayLoader(loader, capacity=40, factor=2, seed=0)
    per_sample = sample_nbytes(dataset[0])
    assert per_sample == 28 * 28  # uint8 images are kept as they are
    for _ in replay:
        assert len(replay.buffer) <= 40
        assert replay.buffer.nbytes() <= 40 * per_sample
    replay.reset()
    assert len(replay.buffer) == 0
    with pytest.raises(ValueError, match='positive int'):
        ReplayBuffer(0)
    with pytest.raises(ValueError, match='one per stage'):
        replay_factors([2, 1], [12, 20, 28])
    with pytest.raises(ValueError, match='positive ints'):
        replay_factors({12: 0}, [12])


def test_replay_keeps_stages_to_whole_epochs_and_counts_compute(
        replay_runs):
    out, work_dir = replay_runs['whole']
    replayed, _ = load_probe(work_dir)
    assert sorted(replayed) == list(range(45))  # 11 epochs of 4, then 1
    sizes = [s for s in TINY_REPLAY_EPOCH_SIZES for _ in range(4)][:45]
    cost = {12: 16 / 64 * (12 / 28)**2, 20: 16 / 64 * (20 / 28)**2,
            28: 16 / 64}
    for it in range(45):
        size = sizes[it]
        assert replayed[it]['size'] == [size, size], it
        assert replayed[it]['stamps'] == [[12, 20, 28].index(size)], it
        if it:  # each batch, replayed or not, counts its compute
            step = cost[sizes[it - 1]] / 4
            assert replayed[it]['compute'] == pytest.approx(
                replayed[it - 1]['compute'] + step), it
    # 4 iterations per epoch: x4 at 12 px loads 1 batch per epoch (7), x2
    # at 20 px 2 (6), x1 at 28 px 4 + 1
    assert 'replay: 18 batches loaded, 27 replayed' in out
    assert ('size 12x12, StampLevel.level=0, batch 16 x 1, LR x 1, '
            'replay x4') in out
    assert re.search(r'replay buffers need 0\.0 MiB', out)


def test_resume_with_replay_replays_the_same_sequence(replay_runs):
    expected, _ = load_probe(replay_runs['whole'][1])
    first, parts = replay_runs['first']
    assert 'interrupted before iteration 26' in first
    resumed, _ = load_probe(parts)
    assert sorted(resumed) == list(range(45))
    for it in range(45):
        for key in ('size', 'lr', 'compute', 'stamps'):
            assert resumed[it][key] == expected[it][key], (it, key)


def test_replay_under_two_processes(tmp_path, fmnist_root):
    env = {'OMP_NUM_THREADS': '1', 'PORT': str(29600 + os.getpid() % 1000)}
    proc = run_tool([
        'bash',
        osp.join(ROOT, 'tools', 'dist_train.sh'), TINY, '2', '--work-dir',
        str(tmp_path), *REPLAY, 'train_dataloader.num_workers=1',
        'train_dataloader.persistent_workers=True'
    ],
                    env=env)
    rank0, _ = load_probe(tmp_path, rank=0)
    rank1, _ = load_probe(tmp_path, rank=1)
    # 2 iterations per epoch and rank, the epochs of one process: 11
    # epochs of 2, then the batch that reaches the budget
    assert sorted(rank0) == sorted(rank1) == list(range(23))
    for it in range(23):
        size = TINY_REPLAY_EPOCH_SIZES[it // 2]
        assert rank0[it]['sizes'] == rank1[it]['sizes'] == [[size, size]]
        assert rank0[it]['lr'] == rank1[it]['lr']
    # 7 loads at 12 px (x4), 3 at 20 (x2), 2 + 1 at 28
    assert 'replay: 13 batches loaded, 10 replayed' in proc.stdout


def test_a_buffer_too_large_for_the_machine_fails_before_training(
        tmp_path, fmnist_root):
    proc = train(
        TINY,
        tmp_path,
        '--cfg-options',
        'custom_hooks.0.replay.factors=2',
        'custom_hooks.0.replay.buffer_samples=10000000000',
        check=False)
    assert proc.returncode != 0
    assert re.search(
        r'replay buffers need [\d.]+ MiB on this machine \(10000000000 '
        r'samples x 784 bytes', proc.stdout)  # 28 x 28 uint8
    assert 'lower EfficientTrainHook.replay.buffer_samples' in proc.stdout
    assert 'Epoch(train)' not in proc.stdout


@pytest.mark.parametrize(
    'config, extra',
    [(TINY, ['--photos', '4', '--photo-repeat', '8']),
     (osp.join(CONFIGS, 'fmnist_tiny_batch.py'), [])])
def test_pipeline_benchmark_reports_every_stage_size(tmp_path, fmnist_root,
                                                     config, extra):
    # fmnist_tiny_batch: batch_scale, so the loader takes its batches from
    # the hook's stage batch sampler; on TINY, JPEG photos through the
    # config's pipeline instead of its dataset
    proc = run_tool([
        'python', 'tools/analysis/benchmark_pipeline.py', config, '--json',
        '--batches', '2', '--compare-replay', '2', '--rounds', '1',
        '--replay-modes', 'whole', 'mix', '--photo-dir',
        str(tmp_path / 'photos'), *extra
    ])
    # the JSON is printed last (the log before it may hold dicts too)
    result = json.loads(proc.stdout[proc.stdout.rindex('\n{\n') + 1:])
    assert [s['size'] for s in result['stages']] == [[12, 12], [20, 20],
                                                     [28, 28]]
    for stage in result['stages']:
        assert stage['loader_images_per_s'] > 0
        assert stage['model_images_per_s'] > 0
        assert stage['bound'] == ('loader' if stage['loader_images_per_s'] <
                                  stage['model_images_per_s'] else 'model')
        assert stage['balancing_replay'] >= 1
    replay = result['replay']
    assert replay['size'] == [12, 12]
    rates = replay['images_per_s']
    assert replay['speedup'] == pytest.approx(rates['2'] / rates['1'])
    assert replay['speedups'] == pytest.approx(
        {name: rates[name] / rates['1'] for name in ('2', '2 mix')})
    if extra:
        assert result['photos'] == dict(files=4, repeat=8)
        assert len(os.listdir(tmp_path / 'photos' / 'images')) == 4


def test_bad_replay_settings_fail_when_the_hook_is_built():
    from etpp_mm.hooks import EfficientTrainHook
    with pytest.raises(ValueError, match=r"unknown keys \['factor'\]"):
        EfficientTrainHook(replay=dict(factor=2, buffer_samples=8))
    with pytest.raises(ValueError, match='replay.buffer_samples'):
        EfficientTrainHook(replay=dict(factors=2))
    with pytest.raises(ValueError, match='max_memory_fraction'):
        EfficientTrainHook(
            replay=dict(factors=2, buffer_samples=8, max_memory_fraction=2))
    with pytest.raises(ValueError, match='drop_path_reference_budget'):
        EfficientTrainHook(drop_path_reference_budget=0)


class IndexedImages(torch.utils.data.Dataset):
    """Samples packed by MMPretrain's PackInputs whose pixels encode their
    index (channel 0: index // 256, channel 1: index % 256) and whose label
    is ``index % 10``; ``views=2`` adds a second view with ``index * 7``
    in channel 1, as MultiView pipelines give lists of views."""

    def __init__(self, count, side=4, views=1):
        self.count, self.side, self.views = count, side, views
        self.pack = PackInputs(meta_keys=('sample_idx', ))

    def __len__(self):
        return self.count

    def image(self, index, view):
        img = np.zeros((self.side, self.side, 2), dtype=np.uint8)
        img[..., 0] = index // 256
        img[..., 1] = (index * (7 if view else 1)) % 256
        return img

    def __getitem__(self, index):
        imgs = [self.image(index, v) for v in range(self.views)]
        return self.pack(
            dict(
                img=imgs[0] if self.views == 1 else imgs,
                gt_label=index % 10,
                sample_idx=index))


def check_pairs(batch, views):
    inputs = batch['inputs']
    if views == 1:
        inputs = [inputs if torch.is_tensor(inputs) else torch.stack(inputs)]
    for i, sample in enumerate(batch['data_samples']):
        index = sample.metainfo['sample_idx']
        assert int(sample.gt_label) == index % 10
        for view, images in enumerate(inputs):
            image = images[i]
            assert image.dtype == torch.uint8
            assert (image[0] == index // 256).all()
            assert (image[1] == (index * (7 if view else 1)) % 256).all()


@pytest.mark.parametrize('collate,views', [(default_collate, 1),
                                           (default_collate, 2),
                                           (pseudo_collate, 1)])
def test_replay_with_workers_pairs_every_image_with_its_label(
        collate, views):
    dataset = IndexedImages(600, views=views)
    loader = DataLoader(
        dataset,
        batch_size=16,
        shuffle=True,
        num_workers=2,
        persistent_workers=True,
        collate_fn=collate)
    replay = ReplayLoader(loader, capacity=64, factor=3, seed=0)
    assert replay.collate_fn is collate  # the loader is used unchanged
    fresh, replayed = set(), set()
    for epoch in range(2):
        replay.set_epoch(epoch)
        for step, batch in enumerate(replay):
            indices = {s.metainfo['sample_idx'] for s in batch['data_samples']}
            (replayed if step % 3 else fresh).update(indices)
            check_pairs(batch, views)
    assert replay.loaded_batches == 2 * math.ceil(38 / 3)
    assert replay.replayed_batches == 2 * 38 - replay.loaded_batches
    assert replayed <= fresh and len(replayed) > 64  # the FIFO moved on


def test_the_fifo_holds_no_shared_memory(fmnist_root):
    dataset = fmnist(fmnist_root, 2048)
    loader = DataLoader(
        dataset,
        batch_size=16,
        num_workers=2,
        persistent_workers=True,
        collate_fn=pseudo_collate)  # one shared tensor per image
    replay = ReplayLoader(loader, capacity=800, factor=2, seed=0)
    batches = iter(replay)
    for _ in range(8):  # workers started, queues full
        next(batches)
    before = len(os.listdir('/proc/self/fd'))
    for batch in batches:  # 120 more batches, 64 loads of 16 images
        pass
    assert len(replay.buffer) == 800
    # about one descriptor per image held by the batches in flight, none
    # per sample stored
    assert len(os.listdir('/proc/self/fd')) - before < 100
    for sample in replay.buffer.draw(16)['data_samples']:
        assert not sample.gt_label.is_shared()


LOW_FD_LIMIT = '''
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
import torch
from mmengine.dataset import default_collate, pseudo_collate
from torch.utils.data import DataLoader
from test_replay import IndexedImages
from etpp_mm.data import ReplayLoader
for collate in (default_collate, pseudo_collate):
    loader = DataLoader(IndexedImages(4096, side=8), batch_size=64,
                        shuffle=True, num_workers=2,
                        persistent_workers=True, collate_fn=collate)
    replay = ReplayLoader(loader, capacity=1920, factor=2)
    done = 0
    for epoch in range(5):
        replay.set_epoch(epoch)
        for batch in replay:
            done += 1
    print(collate.__name__, done, replay.loaded_batches, len(replay.buffer))
'''


def test_replay_runs_long_under_a_low_descriptor_limit():
    proc = run_tool([sys.executable, '-c', LOW_FD_LIMIT],
                    env={'OMP_NUM_THREADS': '1'})
    assert 'default_collate 320 160 1920' in proc.stdout
    assert 'pseudo_collate 320 160 1920' in proc.stdout


def test_auto_factor_arithmetic():
    with_workers = AutoReplayFactor(max_factor=4, iters=4, workers=2)
    without = AutoReplayFactor(max_factor=4, iters=4, workers=0)
    for wait in (1.0, 0.02, 0.02, 0.02):  # the first waits for start-up
        with_workers.observe(wait=wait, step=0.01, factor=1)
        without.observe(wait=wait, step=0.01, factor=1)
    # workers load during the step: 0.02 s waited + 0.01 s stepped
    assert with_workers.decide()[0] == 3
    assert with_workers.rates() == pytest.approx((1 / 0.03, 1 / 0.01))
    assert without.decide() == (
        2, 'replay x2: loader 50.0 batches/s, model 100.0 batches/s')
    capped = AutoReplayFactor(max_factor=4, iters=1, workers=0)
    capped.observe(wait=1.0, step=0.01)
    assert capped.decide()[0] == 4
    assert balancing_replay_factor(0.001, 0.01) == 1
    with pytest.raises(RuntimeError, match='0 of 1 iterations'):
        AutoReplayFactor(iters=1).decide()
    with pytest.raises(ValueError, match='replay.max_factor'):
        AutoReplayFactor(max_factor=0)


class SlowImages(IndexedImages):

    def __getitem__(self, index):
        time.sleep(0.004)  # a loader far slower than the no-op step below
        return super().__getitem__(index)


def test_auto_factor_is_chosen_once_and_survives_resume():
    loader = DataLoader(
        SlowImages(96), batch_size=8, collate_fn=default_collate)
    lines = []
    replay = ReplayLoader(
        loader, capacity=32, max_factor=3, auto_iters=4, log=lines.append)
    replay.start_stage(0, 'auto')
    batches = list(replay)  # 4 measured loads, then x3
    assert replay.decided == {0: 3} and replay.factor == 3
    # the 4th load, which decided, is replayed twice already
    assert len(batches) == 12 and replay.loaded_batches == 4 + 2
    assert re.fullmatch(r'replay x3: loader [\d.]+ batches/s, model '
                        r'[\d.]+ batches/s', lines[0])
    replay.start_stage(0, 'auto')  # next epoch, same stage: no new search
    assert replay.factor == 3
    state = replay.state_dict()

    resumed = ReplayLoader(loader, capacity=32, max_factor=3, auto_iters=4)
    resumed.start_stage(0, 'auto')
    assert resumed.factor == 1  # measuring
    resumed.load_state_dict(state)
    assert resumed.factor == 3 and resumed.state_dict() == state
    assert (resumed.loaded_batches, resumed.replayed_batches) == (6, 6)
    resumed.start_stage(1, 'auto')  # a new stage measures again
    assert resumed.factor == 1 and len(resumed.buffer) == 0


def test_factors_for_sizes_the_plan_lacks_are_refused():
    assert replay_factors({12: 'auto', (28, 28): 2},
                          [(12, 12), (20, 20), (28, 28)]) == ['auto', 1, 2]
    with pytest.raises(ValueError) as error:
        replay_factors({13: 2, 12: 4}, [(12, 12), (20, 20), (28, 28)])
    assert str(error.value) == (
        'EfficientTrainHook.replay.factors gives a factor for size 13, but '
        "the plan's stage sizes are [12, 20, 28]: key the factors by those "
        'sizes')
    with pytest.raises(ValueError, match="positive ints or 'auto'"):
        replay_factors('fast', [12])


def test_resume_restores_replay_counters(replay_runs):
    whole = replay_runs['whole'][0]
    resumed, parts = replay_runs['resumed']
    summary = 'replay: 18 batches loaded, 27 replayed'
    assert summary in whole and summary in resumed  # counted across parts
    state = torch.load(
        osp.join(str(parts), 'epoch_12.pth'),
        map_location='cpu')['efficient_train_replay']
    assert (state['loaded_batches'], state['replayed_batches']) == (18, 27)


AUTO_REPLAY = [
    '--cfg-options', 'custom_hooks.0.replay.factors=auto',
    'custom_hooks.0.replay.buffer_samples=32',
    'custom_hooks.0.replay.max_factor=2', 'custom_hooks.0.replay.auto_iters=3'
]
CHOICE = re.compile(r'stage (\d) \((\d+)x\d+\): replay x(\d): loader '
                    r'[\d.]+ batches/s, model [\d.]+ batches/s')


def test_auto_factors_are_chosen_once_across_a_resume(tmp_path, fmnist_root):
    # interrupted in epoch 3 (stage 1), after stage 1's choice
    first = train(
        osp.join(CONFIGS, 'fmnist_tiny_interrupted.py'),
        tmp_path,
        *AUTO_REPLAY,
        'custom_hooks.2.at_iter=10',
        check=False).stdout
    assert 'interrupted before iteration 10' in first
    assert 'replay auto' in first  # stage 1 announced before its choice
    chosen = CHOICE.findall(first)
    assert [c[:2] for c in chosen] == [('1', '12')]
    factor = int(chosen[0][2])
    assert 1 <= factor <= 2
    state = torch.load(
        osp.join(str(tmp_path), 'epoch_2.pth'),
        map_location='cpu')['efficient_train_replay']
    assert state['decided'] == {0: factor}

    resumed = train(TINY, tmp_path, '--resume', *AUTO_REPLAY).stdout
    assert (f'resumed with the chosen factors stage 1 (12x12) x{factor}'
            in resumed)
    # the stage line at the resumed run's first iteration, its replay
    # factor shown when above 1
    replayed_text = f', replay x{factor}' if factor > 1 else ''
    assert (f'size 12x12, StampLevel.level=0, batch 16 x 1, LR x 1'
            f'{replayed_text} (compute') in resumed
    # stage 1 is not measured again; stages 2 and 3 are, once each
    assert [c[:2] for c in CHOICE.findall(resumed)] == [('2', '20'),
                                                        ('3', '28')]
    loaded, replayed = map(
        int,
        re.search(r'replay: (\d+) batches loaded, (\d+) replayed',
                  resumed).groups())
    assert loaded + replayed == 45  # every iteration of the whole run
    assert f"'auto' chose stage 1 (12x12) x{factor}" in resumed


LOW_FD_TRAINING = '''
ulimit -n 1024 && exec {python} {train} {config} --work-dir {work_dir} \
--cfg-options custom_hooks.0.replay.factors=2 \
custom_hooks.0.replay.buffer_samples=1920 train_dataloader.num_workers=2 \
train_dataloader.persistent_workers=True train_dataloader.batch_size=64 \
train_dataloader.dataset.indices=2048
'''


def test_training_with_replay_and_workers_under_a_low_descriptor_limit(
        tmp_path, fmnist_root):
    command = LOW_FD_TRAINING.format(
        python=sys.executable,
        train=osp.join(ROOT, 'tools', 'train.py'),
        config=TINY,
        work_dir=tmp_path)
    proc = run_tool(['bash', '-c', command], env={'OMP_NUM_THREADS': '1'})
    # 32 iterations per epoch over 11 epochs (stages to whole epochs: 7 at
    # 12 px, 3 at 20, 1 at 28), then the 6 that reach the budget; every
    # other one loaded
    assert 'replay: 179 batches loaded, 179 replayed' in proc.stdout
    records, _ = load_probe(tmp_path)
    assert sorted(records) == list(range(358))
