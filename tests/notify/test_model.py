"""Tests of the notify layer's data: notification keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hirepipe.notify._model import notification_key

PART = st.text(alphabet=st.sampled_from("ab/%2F5"), max_size=6)


class TestNotificationKey:
    @given(first=st.tuples(PART, PART, PART, PART), second=st.tuples(PART, PART, PART, PART))
    def test_different_parts_make_different_keys(self, first, second):
        """Two notifications differing in any part never share a key, whatever the ids hold."""
        assert (first == second) == (notification_key(*first) == notification_key(*second))

    @pytest.mark.parametrize(
        ("parts", "expected"),
        [
            (("app-1", 3, "status", "cand-1"), "app-1/3/status/cand-1"),
            (("app 1", "interview@2025-01-06T09:00:00+00:00", "r", "é"), None),
            (("a/b", 0, "r", "50%"), "a%2Fb/0/r/50%25"),
        ],
        ids=["plain", "unchanged-characters", "escaped"],
    )
    def test_only_slash_and_percent_are_escaped(self, parts, expected):
        """Keys of ids without '/' or '%' are as they always were; those two are escaped."""
        assert (expected or "/".join(map(str, parts))) == notification_key(*parts)
