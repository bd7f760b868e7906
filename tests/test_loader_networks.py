"""The sources nasdb computes itself (parameter counts and FLOPs of the networks it builds)
through the loader kit; the networks tests check every value against the benchmarks."""

from conftest import loader_check

from nasdb.testing.loaders import Known

# Published parameter counts (millions) the computed rows must reproduce: NB201 cell 9930 on
# CIFAR-10 (NATS-Bench, NB201 v1.0) and an NB101 cell (NAS-Bench-101's trainable_parameters).
nb201 = loader_check("nb201_networks", "nb201", known=[Known(9930, "params", 1.288506, "cifar10")])
nb101 = loader_check(
    "nb101_networks",
    "nb101",
    known=[Known("00005c142e6f48ac74fdcf73e3439874", "params", 8.55553, "cifar10")],
)


def test_nb201_networks_keep_the_loader_contracts(nb201):
    assert nb201.db.sql("SELECT count(DISTINCT arch_index) FROM evaluations").fetchall() == [
        (15_625,)
    ]


def test_nb101_networks_keep_the_loader_contracts(nb101, nb101_enumerated):
    assert nb101.db.sql("SELECT count(DISTINCT arch_index) FROM evaluations").fetchall() == [
        (423_624,)
    ]
