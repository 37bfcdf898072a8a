"""The benchmark scoring self-supervised runs by weighted k-NN on frozen
features (``tools/benchmark.py --knn``): the checkpoint finder, bad input,
and the tool on tiny real MAE pre-trainings on Fashion-MNIST, resumed from
its cache."""
import json
import os.path as osp

import pytest

import etpp_bench.knn as bench_knn
from conftest import ROOT
from etpp_bench.knn import find_last_checkpoint
from test_benchmark import load_tool, refused_before_training

MAE = osp.join(ROOT, 'configs', 'fashion_mnist',
               'mae_vit-tiny-p4_1xb256-coslr-30e_fmnist.py')
MOCO = osp.join(ROOT, 'configs', 'fashion_mnist',
                'mocov3_resnet18-w8_1xb256-coslr-30e_fmnist.py')


def touch(folder, *names):
    for name in names:
        (folder / name).write_bytes(b'')


def test_last_checkpoint_is_the_one_mmengine_names_else_the_last_epoch(
        tmp_path):
    # epoch 10 after epoch 9: by number, not by name
    touch(tmp_path, 'epoch_9.pth', 'epoch_10.pth', 'epoch_x.pth',
          'best_accuracy_epoch_12.pth')
    assert find_last_checkpoint(str(tmp_path)) == str(tmp_path /
                                                      'epoch_10.pth')
    # last_checkpoint wins; the path it holds may be from before a move
    touch(tmp_path, 'iter_7.pth')
    (tmp_path / 'last_checkpoint').write_text(
        '/elsewhere/work_dir/iter_7.pth')
    assert find_last_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_7.pth')
    # a marker naming a file that is gone falls back to the epochs
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    assert find_last_checkpoint(str(tmp_path)) == str(tmp_path /
                                                      'epoch_10.pth')
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(RuntimeError, match='default_hooks.checkpoint'):
        find_last_checkpoint(str(empty))


@pytest.mark.parametrize('config, options, words', [
    (MOCO, ['--budgets', '20'], ['no val_dataloader', '--knn']),
    (MOCO, ['--knn', '--budgets', '20', '--final-val-only'],
     ['--final-val-only', 'no validation loop', 'drop --final-val-only']),
    (MAE, ['--knn', '--budgets', '20', '--cfg-options',
           'default_hooks.checkpoint.save_last=False'],
     ['default_hooks.checkpoint', 'save_last=True']),
    (MAE, ['--knn', '--budgets', '20', '--knn-train-images', '10'],
     ['--knn-k 20', '--knn-train-images 10']),
    (MAE, ['--knn', '--budgets', '20', '--cfg-options',
           'knn_test_dataset=None'], ['knn_test_dataset']),
])
def test_knn_benchmark_refuses_what_it_could_not_score(tmp_path, config,
                                                       options, words):
    refused_before_training(tmp_path, config, options, words)


def test_knn_benchmark_of_mae_reports_and_resumes_from_its_cache(
        tmp_path, fmnist_root, capsys, monkeypatch):
    tool = load_tool()
    trained, scored = [], []
    real_train_run = tool.train_run
    real_knn = bench_knn.knn_top1_of_checkpoint

    def counting_train_run(config_path, run_dir, env, extra_args):
        trained.append(osp.basename(run_dir))
        assert env['OMP_NUM_THREADS'] == '1'
        return real_train_run(config_path, run_dir, env, extra_args)

    def counting_knn(cfg, checkpoint, *args):
        scored.append(checkpoint)
        return real_knn(cfg, checkpoint, *args)

    tool.train_run = counting_train_run
    monkeypatch.setattr(bench_knn, 'knn_top1_of_checkpoint', counting_knn)
    work_dir = tmp_path / 'bench'
    report = tmp_path / 'bench.md'
    # The recipe's checkpoint interval (5) and max_keep_ckpts (2) are kept:
    # the last epoch's checkpoint must still be there. 256 images, one
    # iteration per epoch, 2 epochs; ~5 s a run, most of it imports.
    argv = [
        MAE, '--knn', '--knn-train-images', '500', '--knn-test-images',
        '200', '--knn-k', '10', '--variant', 'stage', '1',
        'batch_scale=auto', '--seeds', '0', '--size-divisor', '4',
        '--threads', '1', '--work-dir',
        str(work_dir), '--report',
        str(report), '--cfg-options',
        f'train_dataloader.dataset.data_root={fmnist_root}',
        f'knn_train_dataset.data_root={fmnist_root}',
        f'knn_test_dataset.data_root={fmnist_root}',
        'train_dataloader.dataset.indices=256', 'train_cfg.max_epochs=2'
    ]
    first = tool.main(argv)
    printed = capsys.readouterr().out
    assert first['new_runs'] == 2 and len(trained) == 2
    assert len(scored) == 2
    assert '[run 1/2] done    baseline  seed 0  wall' in printed
    assert 'knn/top1' in printed
    base, stage = first['summaries']
    for summary in (base, stage):
        assert summary.complete
        assert all(0 < s <= 100 for s in summary.scores)

    text = report.read_text()
    assert '| variant | budget | real epochs | knn/top1 mean |' in text
    row = next(line for line in text.splitlines()
               if line.startswith('| baseline |'))
    assert 0 < float(row.split(' | ')[3]) <= 100
    score = next(line for line in text.splitlines()
                 if line.startswith('- **Score**'))
    for words in ('weighted k-NN top-1', 'k = 10', 'T = 0.07',
                  '500 reference images', '200 test images',
                  'outside its wall time'):
        assert words in score
    assert 'no val_dataloader' not in text and 'Validation' not in text

    with open(work_dir / 'benchmark_cache.json') as f:
        entries = json.load(f)['runs'].values()
    baseline = next(e for e in entries if e['variant'] == 'baseline')
    # epoch 2 is no multiple of the interval: CheckpointHook's save_last
    assert baseline['knn']['checkpoint'] == osp.join('train', 'epoch_2.pth')
    assert baseline['knn']['epoch'] == 2
    assert baseline['val']['knn/top1'] == baseline['knn']['top1']
    assert baseline['settings']['knn'] == dict(
        k=10, temperature=0.07, train_images=500, test_images=200)

    # the same command again trains and scores nothing
    trained.clear()
    scored.clear()
    second = tool.main(argv)
    printed = capsys.readouterr().out
    assert trained == [] and scored == []
    assert second['new_runs'] == 0 and second['cached_runs'] == 2
    assert '[run 1/2] cached  baseline  seed 0' in printed
    assert [s.scores for s in second['summaries']] == \
        [s.scores for s in first['summaries']]
    assert report.read_text().split('## Results')[1] == \
        text.split('## Results')[1]
