"""Replay mode 'mix' (every iteration mixes a fresh chunk of a loaded batch
with samples drawn from the FIFO): the fresh/replayed proportion of every
iteration counted through real data, fields kept together, Mixup after the
mixing, the automatic factor, the option's check, and a run interrupted and
resumed through the project's launcher."""
import os.path as osp

import pytest
import torch
from conftest import ROOT, load_probe, train
from mmengine.dataset import default_collate, pseudo_collate
from mmpretrain.datasets import FashionMNIST
from test_replay import (IndexedImages, SlowImages, check_mixup_within_batch,
                         check_pairs)
from torch.utils.data import DataLoader

from etpp_mm.attach.options import check_replay_cfg
from etpp_mm.data import ReplayLoader, fresh_chunks
from etpp_mm.hooks import ReplayControl

CONFIGS = osp.join(ROOT, 'tests', 'configs')
TINY = osp.join(CONFIGS, 'fmnist_tiny.py')
MIX_REPLAY = [
    '--cfg-options', 'custom_hooks.0.replay.factors=[4,2,1]',
    'custom_hooks.0.replay.buffer_samples=32',
    'custom_hooks.0.replay.mode=mix'
]


def indices(batch):
    return [int(s.metainfo['sample_idx']) for s in batch['data_samples']]


def check_proportions(steps, factor, batch_size, capacity, history):
    """Steps read in order from a sampler that does not shuffle: each is
    its loaded batch's next fresh chunk, the sampler's next samples, then
    samples trained on fresh already (the chunk's own included) that the
    FIFO still holds. ``history``: the fresh samples so far, extended."""
    sampler_position = 0  # each epoch reads the sampler from its start
    for step, batch in enumerate(steps):
        ids = indices(batch)
        assert len(ids) == batch_size, step  # the recipe's batch, always
        start, stop = fresh_chunks(batch_size, factor)[step % factor]
        fresh = stop - start
        assert ids[:fresh] == list(
            range(sampler_position, sampler_position + fresh)), step
        sampler_position += fresh
        history.extend(ids[:fresh])
        assert set(ids[fresh:]) <= set(history[-capacity:]), step


@pytest.mark.parametrize('collate,views,factor', [(default_collate, 1, 3),
                                                  (default_collate, 2, 2),
                                                  (pseudo_collate, 1, 4)])
def test_mixed_steps_hold_the_proportion_and_keep_fields_together(
        collate, views, factor):
    # 16 samples a batch, 38 batches an epoch; factor 3 splits a loaded
    # batch into fresh chunks of 6, 5 and 5
    dataset = IndexedImages(600, views=views)
    loader = DataLoader(
        dataset,
        batch_size=16,
        num_workers=1,
        persistent_workers=True,
        collate_fn=collate)
    replay = ReplayLoader(loader, capacity=64, factor=factor, mode='mix')
    history = []
    for epoch in range(2):
        replay.set_epoch(epoch)
        steps = list(replay)
        assert len(steps) == len(loader) == 38  # an epoch keeps its length
        for batch in steps:
            check_pairs(batch, views)  # every field from one sample
        # the FIFO carries over into the next epoch of the stage
        check_proportions(steps, factor, 16, 64, history)
    assert replay.loaded_batches == 2 * -(-38 // factor)
    assert replay.replayed_batches == 2 * 38  # every step mixes
    assert replay.replayed_samples == 2 * 38 * 16 - len(history)


def test_mixed_real_images_keep_their_labels_and_mixup_follows(fmnist_root):
    dataset = FashionMNIST(
        data_root=fmnist_root,
        split='train',
        indices=64,
        pipeline=[dict(type='PackInputs', meta_keys=('sample_idx', ))])
    loader = DataLoader(dataset, batch_size=8, collate_fn=pseudo_collate)
    replay = ReplayLoader(loader, capacity=24, factor=2, mode='mix')
    steps = list(replay)
    check_proportions(steps, 2, 8, 24, [])
    for batch in steps:
        for image, sample in zip(batch['inputs'], batch['data_samples']):
            raw = dataset.get_data_info(sample.metainfo['sample_idx'])
            assert torch.equal(image[0], torch.from_numpy(raw['img']))
            assert int(sample.gt_label) == raw['gt_label']
    # Mixup runs in the data preprocessor, on the mixed batch: partners of
    # fresh samples are replayed ones and the other way round
    check_mixup_within_batch(steps[3])
    # Mixup's soft labels reach neither the FIFO nor later draws
    assert all('gt_score' not in s for s in replay.buffer.draw(8)[
        'data_samples'])


def test_auto_factor_in_mix_mode_and_its_state():
    loader = DataLoader(
        SlowImages(96), batch_size=8, collate_fn=default_collate)
    replay = ReplayLoader(
        loader, capacity=32, max_factor=3, auto_iters=4, mode='mix')
    replay.start_stage(0, 'auto')
    steps = list(replay)
    assert replay.decided == {0: 3} and replay.factor == 3
    # 4 measured loads trained whole, then x3 from the next loaded batch:
    # 8 steps from 3 loads (chunks of 3, 3 and 2 fresh samples)
    assert [len(indices(b)) for b in steps] == [8] * 12
    assert replay.loaded_batches == 4 + 3
    assert (replay.replayed_batches, replay.replayed_samples) == (
        8, 2 * (5 + 5 + 6) + 5 + 5)
    state = replay.state_dict()
    resumed = ReplayLoader(
        loader, capacity=32, max_factor=3, auto_iters=4, mode='mix')
    resumed.start_stage(0, 'auto')
    resumed.load_state_dict(state)
    assert resumed.factor == 3 and resumed.state_dict() == state
    # a checkpoint saved before replayed_samples existed
    resumed.load_state_dict(
        {k: v for k, v in state.items() if k != 'replayed_samples'})
    assert resumed.replayed_samples == 0


def test_control_passes_the_mode_and_names_it(fmnist_root):
    messages = []
    control = ReplayControl(
        dict(factors=2, buffer_samples=16, mode='mix'), [(28, 28)],
        log=messages.append)
    loader = DataLoader(
        FashionMNIST(
            data_root=fmnist_root,
            split='train',
            indices=32,
            pipeline=[dict(type='PackInputs', meta_keys=('sample_idx', ))]),
        batch_size=8,
        collate_fn=pseudo_collate)
    train_loader = control.wrap(loader)
    assert train_loader.mode == 'mix'
    assert messages[0].startswith('replay (mix): each loaded batch is used '
                                  '[2] times per stage, each iteration '
                                  'mixing a fresh chunk')
    control.enter_stage(0, epoch=0)
    assert [len(b['data_samples']) for b in train_loader] == [8] * 4
    assert control.summary() == ('replay (mix): 2 batches loaded, 4 '
                                 'iterations mixed in 16 replayed samples')
    assert ReplayControl(dict(factors=2, buffer_samples=16),
                         [(28, 28)]).mode == 'whole'  # the default


@pytest.mark.parametrize('mode', ['mixed', 'Mix', None, 2])
def test_a_bad_mode_is_refused_naming_the_key_and_the_values(mode):
    with pytest.raises(ValueError) as info:
        check_replay_cfg(dict(factors=2, buffer_samples=8, mode=mode))
    assert str(info.value) == (f'EfficientTrainHook.replay.mode={mode!r}: '
                               "choose one of ['whole', 'mix']")
    from etpp_mm.hooks import EfficientTrainHook
    with pytest.raises(ValueError, match=r"replay\.mode="):
        EfficientTrainHook(
            replay=dict(factors=2, buffer_samples=8, mode=mode))


def test_mix_replay_resumes_after_an_interruption(tmp_path, fmnist_root):
    # fmnist_tiny.py: 4 iterations of 16 an epoch, 7 epochs at 12 px (x4),
    # 3 at 20 px (x2), then 28 px (x1): interrupted before iteration 26 (in
    # epoch 7), resumed from the end of epoch 6 (iteration 24)
    first = train(
        osp.join(CONFIGS, 'fmnist_tiny_interrupted.py'),
        tmp_path,
        *MIX_REPLAY,
        check=False).stdout
    assert 'interrupted before iteration 26' in first
    assert 'replay (mix): each loaded batch is used [4, 2, 1] times' in first
    resumed = train(TINY, tmp_path, '--resume', *MIX_REPLAY).stdout
    assert 'resumed epoch: 6, iter: 24' in resumed
    # the counters go on across the parts: 7 + 6 + 5 loads; 28 iterations
    # with 12 replayed samples, 12 with 8
    assert ('replay (mix): 18 batches loaded, 40 iterations mixed in 432 '
            'replayed samples') in resumed
    state = torch.load(
        osp.join(str(tmp_path), 'epoch_12.pth'),
        map_location='cpu')['efficient_train_replay']
    assert (state['loaded_batches'], state['replayed_batches'],
            state['replayed_samples']) == (18, 40, 432)

    records, _ = load_probe(tmp_path)
    assert sorted(records) == list(range(45))
    sizes = [12] * 28 + [20] * 12 + [28] * 5
    cost = {12: 16 / 64 * (12 / 28)**2, 20: 16 / 64 * (20 / 28)**2,
            28: 16 / 64}
    factors = {12: 4, 20: 2, 28: 1}
    seen = set()  # trained on fresh since the FIFO was last emptied
    for it in range(45):
        record, size = records[it], sizes[it]
        assert record['size'] == [size, size] and record['batch'] == 16, it
        if it:  # the compute clock counts 16 samples an iteration
            assert record['compute'] == pytest.approx(
                records[it - 1]['compute'] + cost[sizes[it - 1]] / 4), it
        if it in (0, 28, 40) or it == 24:  # a new stage; the resume
            seen = set()
        factor = factors[size]
        ids = record['indices']
        fresh = 16 // factor
        seen |= set(ids[:fresh])
        assert set(ids[fresh:]) <= seen, it  # replayed: trained already
        if it % factor == factor - 1:  # a loaded batch is used up
            batch = [i for r in range(it - factor + 1, it + 1)
                     for i in records[r]['indices'][:fresh]]
            assert len(set(batch)) == 16, it  # each sample fresh once
