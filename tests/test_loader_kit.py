"""The loader kit itself: each rule it checks fails loudly when broken (on a small source)."""

from __future__ import annotations

import pytest
from conftest import REPO

from nasdb import loaders
from nasdb.testing import check_loader
from nasdb.testing.loaders import Known, LoaderCheck, card_rows

NAME = "tnb101_zc"
FILE = "tnb101_micro_valid_nets.csv"


def test_row_count_comes_from_the_card():
    assert card_rows(NAME) == 2_128 * 14 - 3  # 13 proxies and accuracy; 3 failed on one cell


def test_a_wrong_row_count_fails(shared_data, tmp_path):
    with pytest.raises(AssertionError, match="29,789 rows, expected 29,790"):
        check_loader(NAME, shared_data, tmp_path, rows=29_790)


def test_a_wrong_published_value_fails(shared_data, tmp_path):
    wrong = Known("64-41414-3_32_132", "valid_accuracy", 55.0, task="class_scene")
    with pytest.raises(AssertionError, match="answers 54.93"):
        check_loader(NAME, shared_data, tmp_path, known=[wrong], targets=())


def test_damage_that_does_not_stop_the_ingest_fails(shared_data, tmp_path):
    check = LoaderCheck(NAME, shared_data / "transnas101/zero_cost", tmp_path)
    with pytest.raises(AssertionError, match="exit status 0, expected 2"):
        check.fails(FILE, lambda path: None)


def test_an_edit_of_the_real_files_is_caught(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / FILE).write_text("net\n")
    check = LoaderCheck(NAME, real, tmp_path / "work")
    (tmp_path / "work").mkdir()
    with pytest.raises(AssertionError, match="changed the real files"):
        check.fails("", lambda d: (real / FILE).write_text("other\n"))


def test_every_source_goes_through_the_kit():
    """The kit checks each card's row count; a source no loader test checks would slip by."""
    tests = [p.read_text() for p in (REPO / "tests").glob("test_loader_*.py")]
    kit = [t for t in tests if "loader_check(" in t or "check_loader(" in t]
    unchecked = [n for n in loaders.names() if not any(f'"{n}"' in t for t in kit)]
    assert unchecked == []
