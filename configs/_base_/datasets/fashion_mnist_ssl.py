# Fashion-MNIST for self-supervised pre-training (no labels used in
# training) and the labelled sets of the k-NN evaluation
# (tools/analysis/knn_eval.py): the train split as reference, the test split
# to classify, both at the native 28 px.
dataset_type = 'FashionMNIST'
data_root = 'data/fashion_mnist'
data_preprocessor = dict(
    type='SelfSupDataPreprocessor', mean=[72.94], std=[90.02], to_rgb=False)
knn_pipeline = [dict(type='PackInputs')]
knn_train_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    split='train',
    download=False,
    pipeline=knn_pipeline)
knn_test_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    split='test',
    test_mode=True,  # MMPretrain 1.2's MNIST reads the test files only so
    download=False,
    pipeline=knn_pipeline)

# The pre-training loader; each recipe sets train_dataloader.dataset.pipeline.
train_dataloader = dict(
    batch_size=256,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        download=False))
