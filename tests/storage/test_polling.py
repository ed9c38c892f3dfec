"""The SQLite polling subscription: its interval comes from the URL, and it stops its threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from kam_adapters.polling import PollingSubscription

from kam_domain.application import KamApplication
from kam_domain.errors import InvalidStoreUrl


def test_poll_interval_is_taken_from_the_url(tmp_path: Path) -> None:
    """``?poll_interval=0.05`` reaches the recorder; without it the default is 0.2 s."""
    tuned = KamApplication(f"sqlite:///{tmp_path / 'a.db'}?poll_interval=0.05")
    default = KamApplication(f"sqlite:///{tmp_path / 'b.db'}")

    intervals = [app.recorder.poll_interval for app in (tuned, default)]  # type: ignore[attr-defined]

    assert intervals == [0.05, 0.2]
    tuned.close()
    default.close()


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf", "61"])
def test_poll_interval_must_be_a_sensible_number_of_seconds(tmp_path: Path, value: str) -> None:
    """Zero, negative, non-numeric or over-a-minute intervals are refused, naming the parameter."""
    with pytest.raises(InvalidStoreUrl, match="poll_interval must be a number of seconds"):
        KamApplication(f"sqlite:///{tmp_path / 'kam.db'}?poll_interval={value}")


def test_a_stopped_subscription_leaves_no_thread_behind(tmp_path: Path) -> None:
    """Leaving the subscription's ``with`` block ends its polling and reading threads."""
    app = KamApplication(f"sqlite:///{tmp_path / 'kam.db'}?poll_interval=0.01")
    before = set(threading.enumerate())

    with app.recorder.subscribe(gt=None) as subscription:
        assert isinstance(subscription, PollingSubscription)
        subscription.stop()
        assert list(subscription) == []

    assert set(threading.enumerate()) <= before
    app.close()
