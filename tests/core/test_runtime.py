import gc

import pytest

from app.core.runtime import YOUNG_THRESHOLD, tune_gc


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_tune_gc_raises_the_young_threshold_and_keeps_the_others(thresholds):
    gc.set_threshold(700, 7, 9)
    tune_gc()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 7, 9)


def test_tune_gc_leaves_a_higher_threshold_and_a_disabled_collector_alone(thresholds):
    gc.set_threshold(YOUNG_THRESHOLD * 4, 10, 10)
    tune_gc()
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD * 4
    gc.set_threshold(0, 10, 10)
    tune_gc()
    assert gc.get_threshold()[0] == 0
