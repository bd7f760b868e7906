"""Drop-in versions of the upstream benchmark APIs, answered from a nasdb catalog.

One module per upstream API, with its call shapes, argument names and result keys:
:mod:`nasdb.compat.nasbench` (NAS-Bench-101's ``nasbench.api``), :mod:`nasdb.compat.nats`
(NATS-Bench topology), :mod:`nasdb.compat.nas_201_api` (NAS-Bench-201),
:mod:`nasdb.compat.hw_nas_bench` (HW-NAS-Bench) and :mod:`nasdb.compat.nas_bench_graph`.
The data-file argument every upstream constructor takes is accepted and not read: the
catalog comes from the ``home`` keyword or ``$NASDB_HOME``. A field the catalog does not
hold raises :class:`~nasdb.compat._common.MissingField` naming the source to ingest.
"""

from nasdb.compat._common import MissingField

__all__ = ["MissingField"]
