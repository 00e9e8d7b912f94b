"""Tests of the notify layer's data: notification keys, and notifications serialised."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from hirepipe import Pipeline, standard_policy
from hirepipe.notify import Notification, Notifier, Outbox
from hirepipe.notify._model import notification_key, occasion_prefix
from hirepipe.testing import FakeClock, make_application, make_requisition
from tests.conftest import START

PART = st.text(alphabet=st.sampled_from("ab/%2F5"), max_size=6)


class TestNotificationKey:
    @given(first=st.tuples(PART, PART, PART, PART), second=st.tuples(PART, PART, PART, PART))
    def test_different_parts_make_different_keys(self, first, second):
        """Two notifications differing in any part never share a key, whatever the ids hold."""
        assert (first == second) == (notification_key(*first) == notification_key(*second))

    @given(key=st.tuples(PART, PART, PART, PART), occasion=st.tuples(PART, PART))
    def test_an_occasions_keys_and_only_they_begin_with_its_prefix(self, key, occasion):
        """The store knows an event's keys by their prefix: the key's own occasion, no other."""
        prefix = occasion_prefix(*occasion)
        assert (key[:2] == occasion) == notification_key(*key).startswith(prefix)

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


class TestNotificationSerialises:
    def notification(self):
        """A notification as the Notifier puts it into an outbox: its facts built lazily."""
        pipeline = Pipeline(standard_policy(), clock=FakeClock(START))
        outbox = Outbox()
        pipeline.hooks.append(Notifier(outbox, pipeline.policy))
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        pipeline.fire(
            application,
            "reject",
            actor="maria",
            requisition=requisition,
            reason="skills",
            feedback_on_request=True,
        )
        notification, *_ = outbox.for_application(application.id)
        return notification

    def test_pydantic_serialises_a_notification_with_its_facts(self):
        """``TypeAdapter(Notification)`` writes the facts as an object, and reads them back."""
        notification = self.notification()
        adapter = TypeAdapter(Notification)
        written = adapter.dump_python(notification, mode="json")
        assert dict(notification.facts) == written["facts"]
        assert json.loads(notification.to_json()) == written
        assert dict(notification.facts) == dict(adapter.validate_python(written).facts)

    def test_a_response_model_holds_a_notification(self):
        """A notification as a field of a Pydantic model, as FastAPI serialises a response."""

        class Sent(BaseModel):
            notification: Notification

        notification = self.notification()
        dumped = json.loads(Sent(notification=notification).model_dump_json())
        assert (notification.key, dict(notification.facts)) == (
            dumped["notification"]["key"],
            dumped["notification"]["facts"],
        )
