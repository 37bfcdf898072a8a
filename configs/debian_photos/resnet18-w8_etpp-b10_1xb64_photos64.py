# EfficientTrain++ on Debian photos: the 15-epoch recipe of
# resnet18-w8_1xb64_photos64.py at 2/3 of its compute (budget 10 equivalent
# epochs). size_divisor='auto' reads 8 (ResNet_CIFAR's total stride), so the
# preset's 96 -> 24, 160 -> 48, 224 -> 64 px; RandAugment's magnitude is
# scheduled from 0 up to the recipe's 6; 25.3 real epochs
# (`python tools/analysis/print_curriculum.py` prints the plan).
_base_ = ['./resnet18-w8_1xb64_photos64.py']
custom_hooks = [dict(type='EfficientTrainHook', preset='etpp', budget=10)]
