"""Published search results that ``nasdb reproduce`` sets nasdb's runs against.

NAS-Bench-201 (Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural
Architecture Search", ICLR 2020, Table 5): non-weight-sharing methods, 500 runs each, a
simulated budget of 12,000 s, every search on CIFAR-10 (validation accuracy of the 12-epoch
schedule, one random seed per query), the chosen cell's 200-epoch test accuracy reported
on CIFAR-10, CIFAR-100 and ImageNet16-120, mean and standard deviation over runs.
The numbers were read from their reprint in Mellor et al., "Neural Architecture Search
without Training", ICML 2021, Table 2(a) ("Baselines are taken directly from Dong & Yang
(2020), averaged over 500 runs").

NATS-Bench (Dong et al., TPAMI 2021) runs the same four methods on the topology space per
dataset, with budgets of 20,000 / 40,000 / 120,000 s (AutoDL-Projects,
exps/NATS-Bench/draw-table.py); its table is not held here, so ``reproduce nats`` prints
nasdb's numbers alone.
"""

from __future__ import annotations

NB201_CITATION = (
    "Dong & Yang, NAS-Bench-201, ICLR 2020, Table 5 (500 runs, 12000 s), as reprinted in "
    "Mellor et al., Neural Architecture Search without Training, ICML 2021, Table 2(a)"
)

# algorithm -> task -> (mean, std) of the 200-epoch test accuracy (%) of the chosen cell
NB201_TEST = {
    "rea": {"cifar10": (93.92, 0.30), "cifar100": (71.84, 0.99), "imagenet16-120": (45.54, 1.03)},
    "rs": {"cifar10": (93.70, 0.36), "cifar100": (71.04, 1.07), "imagenet16-120": (44.57, 1.25)},
    "reinforce": {
        "cifar10": (93.85, 0.37),
        "cifar100": (71.71, 1.09),
        "imagenet16-120": (45.24, 1.18),
    },
    "bohb": {"cifar10": (93.61, 0.52), "cifar100": (70.85, 1.28), "imagenet16-120": (44.42, 1.49)},
}
NB201_RUNS = 500
NB201_SECONDS = 12_000  # every method, searching on CIFAR-10

NATS_SECONDS = {"cifar10": 20_000, "cifar100": 40_000, "imagenet16-120": 120_000}

# Hyperparameters of the published runs (AutoDL-Projects exps/NATS-algos/run-all.sh)
PARAMS = {
    "rea": {"population_size": 10, "sample_size": 3},
    "reinforce": {"learning_rate": 0.01, "momentum": 0.9},
    "bohb": {"num_samples": 4, "random_fraction": 0.0, "bandwidth_factor": 3},
}
