"""The shortened recipe's schedule (``tools/benchmark.py --shortened``) on
the schedules MMPretrain and this project ship: the compressed
``param_scheduler`` built by MMEngine itself and stepped as its
``ParamSchedulerHook`` steps it, against the recipe's."""
import math
import os.path as osp

import mmpretrain
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from conftest import ROOT
from etpp_bench.shorten import (check_shortened, describe_change,
                                shorten_schedule)

MMPRETRAIN_SCHEDULES = osp.join(
    osp.dirname(mmpretrain.__file__), '.mim', 'configs', '_base_',
    'schedules')
PROJECT_SCHEDULES = osp.join(ROOT, 'configs', '_base_', 'schedules')


def schedule_of(folder, name):
    """``(param_scheduler, max_epochs)`` of a shipped schedule file."""
    cfg = Config.fromfile(osp.join(folder, name)).to_dict()
    return cfg['param_scheduler'], cfg['train_cfg']['max_epochs']


def lr_per_iteration(param_scheduler, epochs, iters_per_epoch):
    """The LR of every training iteration, and the LR after the last one,
    with the schedulers built by MMEngine's registry (``end`` defaulting
    as the runner defaults it) and stepped as its ``ParamSchedulerHook``
    steps them: by-iteration ones after each iteration, by-epoch ones after
    each epoch."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    if isinstance(param_scheduler, dict):
        param_scheduler = [param_scheduler]
    schedulers = []
    for cfg in param_scheduler:
        cfg = dict(cfg)
        by_epoch = cfg.get('by_epoch', True)
        cfg.setdefault('end',
                       epochs if by_epoch else epochs * iters_per_epoch)
        schedulers.append(
            PARAM_SCHEDULERS.build(
                cfg,
                default_args=dict(optimizer=optimizer,
                                  epoch_length=iters_per_epoch)))
    lrs = []
    for _ in range(epochs):
        for _ in range(iters_per_epoch):
            lrs.append(optimizer.param_groups[0]['lr'])
            optimizer.step()  # no gradient: only the order of the calls
            for scheduler in schedulers:
                if not scheduler.by_epoch:
                    scheduler.step()
        for scheduler in schedulers:
            if scheduler.by_epoch:
                scheduler.step()
    return lrs, optimizer.param_groups[0]['lr']


def cosine_at(fraction, eta_min):
    """A cosine decay from 1 to ``eta_min``, ``fraction`` of the way."""
    return eta_min + (1 - eta_min) * (1 + math.cos(math.pi * fraction)) / 2


def test_multistep_milestones_scale_exactly_when_the_ratio_allows():
    """MMPretrain's ImageNet ResNet schedule (milestones 30, 60, 90 of 100
    epochs) at 10 epochs: every shortened epoch has the LR of the recipe's
    epoch ten times later."""
    param_scheduler, epochs = schedule_of(MMPRETRAIN_SCHEDULES,
                                          'imagenet_bs256.py')
    assert epochs == 100
    short = shorten_schedule(param_scheduler, epochs, 10)
    assert short == [dict(param_scheduler, milestones=[3, 6, 9])]
    recipe_lrs, _ = lr_per_iteration(param_scheduler, 100, 1)
    short_lrs, _ = lr_per_iteration(short, 10, 1)
    assert short_lrs == pytest.approx(recipe_lrs[::10])
    # 100 -> 5: 4.5 rounds up onto the end; moved down one epoch instead
    assert shorten_schedule(param_scheduler, 100, 5)[0]['milestones'] == \
        [2, 3, 4]


def test_warmup_and_cosine_by_epoch_with_t_max_begin_and_end():
    """MMPretrain's RSB schedule: a 5-epoch warm-up converted to iterations,
    then a cosine with ``T_max=95, begin=5, end=100``."""
    param_scheduler, epochs = schedule_of(MMPRETRAIN_SCHEDULES,
                                          'imagenet_bs2048_rsb.py')
    warmup, cosine = shorten_schedule(param_scheduler, epochs, 50)
    assert (warmup['begin'], warmup['end']) == (0, 3)  # 2.5, halves up
    assert warmup['convert_to_iter_based'] is True
    assert (cosine['begin'], cosine['end'], cosine['T_max']) == (3, 50, 47)
    # 0.5 epochs of warm-up at 10 epochs: one epoch, not Python's round()
    # to 0, and the cosine begins where the warm-up ends
    warmup, cosine = shorten_schedule(param_scheduler, epochs, 10)
    assert (warmup['end'], cosine['begin'], cosine['T_max']) == (1, 1, 9)

    ipe = 4
    lrs, _ = lr_per_iteration([warmup, cosine], 10, ipe)
    recipe_lrs, _ = lr_per_iteration(param_scheduler, 100, ipe)
    # the warm-up rises over the first epoch's iterations, as the recipe's
    # over its first 5 epochs, from the same start to the same peak
    assert lrs[0] == pytest.approx(1e-4)
    assert recipe_lrs[0] == pytest.approx(1e-4)
    assert lrs[ipe - 1] == pytest.approx(1.0)
    assert recipe_lrs[5 * ipe - 1] == pytest.approx(1.0)
    assert lrs[ipe - 2] < 1.0
    # the cosine, stepped per epoch, spans the 9 epochs left as the
    # recipe's spans its 95: the last epoch trains 8/9 of the way down
    eta_min = param_scheduler[1]['eta_min']
    assert lrs[-1] == pytest.approx(cosine_at(8 / 9, eta_min))
    assert recipe_lrs[-1] == pytest.approx(cosine_at(94 / 95, eta_min))
    assert len(lrs) == 10 * ipe


def test_warmup_by_iteration_scales_in_iterations():
    """MMPretrain's 2048-batch schedule: a LinearLR warm-up over iterations
    0-2500 (``by_epoch=False``) and MultiStepLR over epochs."""
    param_scheduler, epochs = schedule_of(MMPRETRAIN_SCHEDULES,
                                          'imagenet_bs2048.py')
    warmup, steps = shorten_schedule(param_scheduler, epochs, 50,
                                     iters_per_epoch=626)
    assert (warmup['by_epoch'], warmup['begin'], warmup['end']) == \
        (False, 0, 1250)
    assert steps['milestones'] == [15, 30, 45]
    # a warm-up of 3 iterations kept at least 1 at 1/100 of the length
    warmup, _ = shorten_schedule([dict(param_scheduler[0], end=3),
                                  param_scheduler[1]], epochs, 4,
                                 iters_per_epoch=2)
    assert warmup['end'] == 1


def test_constant_then_poly_by_iteration():
    """MMPretrain's MobileNet schedule: ConstantLR over iterations 0-5000,
    then PolyLR from 5000 to the end (left out: it follows max_iters)."""
    param_scheduler, epochs = schedule_of(
        MMPRETRAIN_SCHEDULES, 'imagenet_bs1024_linearlr_bn_nowd.py')
    constant, poly = shorten_schedule(param_scheduler, epochs, 150,
                                      iters_per_epoch=1251)
    assert (constant['end'], poly['begin']) == (2500, 2500)
    assert 'end' not in poly


def test_project_schedules_and_the_shipped_recipe():
    """This project's Fashion-MNIST schedules: the supervised one (a
    1-epoch warm-up converted to iterations, then a cosine stepped per
    epoch up to max_epochs) and the self-supervised one (warm-up and
    cosine both converted, ``T_max=28, begin=2, end=30``)."""
    param_scheduler, epochs = schedule_of(PROJECT_SCHEDULES,
                                          'fmnist_sgd_coslr.py')
    short = shorten_schedule(param_scheduler, epochs, 10)
    assert [(s['begin'], s.get('end')) for s in short] == [(0, 1), (1, None)]
    lrs, _ = lr_per_iteration(short, 10, 3)
    recipe_lrs, _ = lr_per_iteration(param_scheduler, epochs, 3)
    # MMEngine's LinearLR reaches its end factor on its last iteration
    assert lrs[:4] == pytest.approx([0.1, 0.55, 1.0, 1.0])
    assert recipe_lrs[:4] == pytest.approx(lrs[:4])
    # the cosine from epoch 1 to the end (max_epochs, 10 now)
    eta_min = param_scheduler[1]['eta_min']
    assert lrs[-1] == pytest.approx(cosine_at(8 / 9, eta_min))
    assert recipe_lrs[-1] == pytest.approx(cosine_at(13 / 14, eta_min))

    param_scheduler, epochs = schedule_of(PROJECT_SCHEDULES,
                                          'fmnist_ssl_coslr.py')
    warmup, cosine = shorten_schedule(param_scheduler, epochs, 20)
    assert (warmup['end'], cosine['begin'], cosine['end'],
            cosine['T_max']) == (1, 1, 20, 19)
    text = describe_change(param_scheduler, [warmup, cosine], epochs, 20)
    assert text == ('max_epochs 30->20; LinearLR begin 0->0, end 2->1; '
                    'CosineAnnealingLR begin 2->1, end 30->20, T_max 28->19')


def test_a_t_max_that_does_not_span_its_scheduler_scales_alone():
    short, = shorten_schedule(
        dict(type='CosineAnnealingLR', by_epoch=True, T_max=50, begin=0,
             end=100), 100, 10)
    assert (short['end'], short['T_max']) == (10, 5)


def test_the_input_is_left_as_it_was():
    param_scheduler, epochs = schedule_of(MMPRETRAIN_SCHEDULES,
                                          'imagenet_bs256.py')
    before = dict(param_scheduler, milestones=list(param_scheduler[
        'milestones']))
    shorten_schedule(param_scheduler, epochs, 10)
    assert param_scheduler == before
    assert shorten_schedule(None, 15, 10) == []


@pytest.mark.parametrize('epochs, recipe_epochs, words', [
    (0, 15, ['--shortened', 'positive', '0']),
    (-2, 15, ['--shortened', '-2']),
    (15, 15, ['--shortened 15', "max_epochs (15)"]),
    (20, 15, ['--shortened 20', "max_epochs (15)"]),
    (7.5, 15, ['--shortened 7.5', 'whole epochs']),
    (float('nan'), 15, ['--shortened', 'nan']),
])
def test_bad_lengths_are_refused_naming_the_option_and_value(
        epochs, recipe_epochs, words):
    for call in (lambda: check_shortened([epochs], recipe_epochs),
                 lambda: shorten_schedule([], recipe_epochs, epochs)):
        with pytest.raises(ValueError) as info:
            call()
        for word in words:
            assert word in str(info.value)


def test_repeats_and_schedules_too_long_for_the_length_are_refused():
    with pytest.raises(ValueError, match='--shortened 10 is given twice'):
        check_shortened([10, 12, 10.0])
    param_scheduler, epochs = schedule_of(MMPRETRAIN_SCHEDULES,
                                          'imagenet_bs256.py')
    # four phases (milestones 30, 60, 90) in three epochs
    with pytest.raises(ValueError, match=r'--shortened 3: .*4 phases'):
        shorten_schedule(param_scheduler, epochs, 3)
    assert shorten_schedule(param_scheduler, epochs, 4)[0]['milestones'] \
        == [1, 2, 3]
    # the recipe's 1-epoch warm-up and its cosine in a single epoch
    param_scheduler, epochs = schedule_of(PROJECT_SCHEDULES,
                                          'fmnist_sgd_coslr.py')
    with pytest.raises(ValueError, match=r'--shortened 1: .*epochs 1 of 15'):
        shorten_schedule(param_scheduler, epochs, 1)
    # by iteration: 2 phases need 2 iterations
    with pytest.raises(ValueError, match=r'--shortened 1: .*iterations 3'):
        shorten_schedule([dict(type='LinearLR', by_epoch=False, end=3)], 4,
                         1, iters_per_epoch=1)


def test_a_scheduler_dict_per_optimizer_is_refused():
    with pytest.raises(ValueError, match='--shortened 10: param_scheduler'):
        shorten_schedule(dict(lr=[dict(type='MultiStepLR', milestones=[5])]),
                         15, 10)
