"""The Notifier: a hook that turns applied events, creations and deadlines into notifications.

A rule of ``policy.notifications`` fires

- on any of its ``events`` (transitions and activities alike), when the hook is called;
- on entering any of its ``stages`` (a transition whose destination is one of them);
- with ``deadline="created"`` ([`CREATED`][hirepipe.notify.CREATED]), when
  [`Notifier.created`][hirepipe.notify.Notifier.created] is told of a new application (no event
  marks a creation);
- with ``deadline`` naming a [`DeadlineKind`][hirepipe.timeline.DeadlineKind], when
  [`Notifier.sweep`][hirepipe.notify.Notifier.sweep] finds that service-level deadline overdue.
  ``candidate_update`` counts the notifications sent as contact
  ([`who_needs_an_update`][hirepipe.notify.who_needs_an_update]); a deadline rule addressed to
  approvers or interviewers goes only to those who owe the step.

A rule addressed to ``on_behalf_of`` goes to the person an event was fired for by someone else
(the record's ``data["on_behalf_of"]``), and to nobody when the actor acted for themselves.

Each notification is due ``delay_days`` business days after its trigger (in the requisition's
calendar), or at once. Its idempotency key names the application, the record version (``0``
for the creation, the deadline's kind and start for a deadline), the rule and the person, each
escaped so that ids holding ``/`` never collide; calling the hook again after a crash, or
through ``Pipeline.retry_failed_hooks``, adds nothing twice. A hook that raises has added
only whole notifications; the retry adds the rest.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from hirepipe.errors import CalendarError
from hirepipe.models import Application, Requisition, TransitionRecord, as_instant
from hirepipe.notify._cadence import UpdateDue, update_due, who_needs_an_update
from hirepipe.notify._facts import (
    EstimateProvider,
    FactBuilder,
    Facts,
    OpenRolesProvider,
    Person,
    Scene,
    default_estimate,
    snapshot,
)
from hirepipe.notify._model import (
    CREATED,
    Message,
    Notification,
    NotificationError,
    notification_key,
)
from hirepipe.notify._outbox import Outbox
from hirepipe.notify._senders import DeliveryReport, Sender, deliver
from hirepipe.notify._templates import Templates
from hirepipe.pipeline import Fired
from hirepipe.policy import NotificationRule, Policy, Recipient
from hirepipe.standard._position import application_approval_state
from hirepipe.timeline.deadlines import Deadline, DeadlineKind, ServiceLevels

__all__ = ["CountingNotifier", "Notifier"]

Requisitions = (
    Mapping[str, Requisition] | Iterable[Requisition] | Callable[[str], Requisition | None]
)
Directory = Mapping[str, str] | Callable[[str], str | None]
_FILTERED_BY_OWER = frozenset({Recipient.approvers, Recipient.interviewers})
# the roles as plain names: comparing with a name costs a tenth of reading the enum's member
_CANDIDATE, _REFEREES, _HIRING_MANAGER, _RECRUITER, _APPROVERS, _INTERVIEWERS, _ON_BEHALF_OF = (
    Recipient.candidate.value,
    Recipient.referees.value,
    Recipient.hiring_manager.value,
    Recipient.recruiter.value,
    Recipient.approvers.value,
    Recipient.interviewers.value,
    Recipient.on_behalf_of.value,
)
_NONE: tuple[NotificationRule, ...] = ()
_KINDS = frozenset(kind.value for kind in DeadlineKind)


class _Rules:
    """A policy's notification rules, indexed by what triggers them."""

    __slots__ = ("by_event", "by_stage", "created", "deadline", "policy", "seen")

    def __init__(self, policy: Policy) -> None:
        kinds = (
            _KINDS
            | {
                spec.service.deadline or spec.name
                for spec in policy.stages.values()
                if spec.service is not None
            }
            | {follow_up.deadline or "" for follow_up in policy.follow_ups.values()}
        )
        unknown = [
            f"{rule.name}: {rule.deadline!r}"
            for rule in policy.notifications
            if rule.deadline and rule.deadline != CREATED and rule.deadline not in kinds
        ]
        if unknown:
            raise NotificationError(
                f"notification rules of {policy.label} name unknown deadlines "
                f"({'; '.join(unknown)}); use {CREATED!r} or a deadline kind: "
                f"{', '.join(sorted(kinds))}"
            )
        self.policy = policy
        self.by_event: dict[str, list[NotificationRule]] = {}
        self.by_stage: dict[str, list[NotificationRule]] = {}
        for rule in policy.notifications:
            for event in rule.events:
                self.by_event.setdefault(event, []).append(rule)
            for stage in rule.stages:
                self.by_stage.setdefault(stage, []).append(rule)
        self.created = tuple(r for r in policy.notifications if r.deadline == CREATED)
        self.deadline = tuple(
            r for r in policy.notifications if r.deadline and r.deadline != CREATED
        )
        self.seen: dict[tuple[str, str, str, bool], tuple[NotificationRule, ...]] = {}

    def on(self, record: TransitionRecord) -> tuple[NotificationRule, ...]:
        """The rules an applied record triggers, each once, in policy order.

        Rules addressed to ``on_behalf_of`` only when the record names someone acted for.
        """
        # the fields read from the record's dict: on Python 3.11 each read of a pydantic field
        # takes BaseModel.__getattr__'s slow path (about 450 instructions), on every event
        fields = record.__dict__
        event, to_stage, kind = fields["event"], fields["to_stage"], fields["kind"]
        acted_for = "on_behalf_of" in fields["data"]
        key = (event, to_stage, kind, acted_for)
        found = self.seen.get(key)
        if found is None:
            matched = list(self.by_event.get(event, ()))
            if kind == "transition":
                matched += self.by_stage.get(to_stage, ())
            if not acted_for:
                matched = [rule for rule in matched if rule.to != Recipient.on_behalf_of]
            order = {rule.name: n for n, rule in enumerate(self.policy.notifications)}
            unique = {rule.name: rule for rule in matched}
            found = tuple(sorted(unique.values(), key=lambda r: order[r.name])) or _NONE
            self.seen[key] = found
        return found


class Notifier:
    """A hook (``Pipeline(hooks=[notifier])``) that puts notifications into an outbox.

    ``policy`` holds the rules (``policy.notifications``) and the service levels the sweep
    uses (default: the standard policy); an event applied under another policy uses that
    policy's rules. ``templates`` defaults to hirepipe's own. A rule naming a template that
    does not exist, or a deadline that is neither ``"created"`` nor a
    [`DeadlineKind`][hirepipe.timeline.DeadlineKind], raises NotificationError here.

    ``requisitions`` finds an application's requisition when an event was fired without one: a
    mapping by id, a collection, or a callable taking the id (requisitions seen in events and in
    [`created`][hirepipe.notify.Notifier.created] are remembered too). ``directory`` maps
    people's ids to e-mail addresses (an id that is an address needs no entry). ``estimate`` is
    the estimate provider (None: [`default_estimate`][hirepipe.notify.default_estimate], the
    timeline estimator; [`no_estimate`][hirepipe.notify.no_estimate] for none); ``open_roles``
    names other open roles in a rejection; ``signature`` closes every message; ``facts`` adds
    facts for a company's own templates.

    With each event's notifications the hook keeps a snapshot of the application and the
    requisition (two shallow copies); their facts, the estimate included, are built from it
    when first rendered, so the hook costs little more than the event itself.
    """

    def __init__(
        self,
        outbox: Outbox,
        policy: Policy | None = None,
        *,
        templates: Templates | None = None,
        requisitions: Requisitions | None = None,
        directory: Directory | None = None,
        estimate: EstimateProvider | None = None,
        open_roles: OpenRolesProvider | None = None,
        levels: ServiceLevels | None = None,
        signature: str = "The hiring team",
        facts: Mapping[str, FactBuilder] | None = None,
    ) -> None:
        if policy is None:
            from hirepipe.standard import standard_policy

            policy = standard_policy()
        self.outbox = outbox
        self.policy = policy
        self.templates: Templates = templates if templates is not None else Templates()
        self.templates.check(rule.template for rule in policy.notifications)
        self._rules_of: dict[int, _Rules] = {id(policy): _Rules(policy)}
        self.levels: ServiceLevels = levels if levels is not None else ServiceLevels(policy)
        self._facts = Facts(
            estimate=estimate if estimate is not None else default_estimate(),
            open_roles=open_roles,
            signature=signature,
            extra=facts or {},
        )
        self._known: dict[str, Requisition] = {}
        self._lookup: Callable[[str], Requisition | None] | None = None
        if callable(requisitions):
            self._lookup = requisitions
        elif isinstance(requisitions, Mapping):
            self._lookup = requisitions.get
        elif requisitions is not None:
            self._known.update((r.id, r) for r in requisitions)
        self._directory: Callable[[str], str | None] | None = (
            directory.get if isinstance(directory, Mapping) else directory
        )

    # -- the hook ------------------------------------------------------------------------------

    def __call__(self, fired: Fired, /) -> None:
        """Put the notifications of one applied event into the outbox (idempotent)."""
        addressed = self._addressed(fired)
        if not addressed:
            return
        record, application = fired.record, fired.application
        requisition = self._requisition(application, fired.requisition)
        made = []
        copies: tuple[Application, Requisition] | None = None
        for rule, key, person in addressed:
            if key in self.outbox:
                continue  # called again after a crash: this one is already kept
            if copies is None:  # one snapshot for every notification of this event
                copies = snapshot(application, requisition)
            scene = Scene(
                copies[0],
                copies[1],
                fired.policy,
                record.event,
                record.at,
                record.to_stage,
                person,
                record=record,
            )
            made.append(self._notification(rule, key, scene))
        for notification in made:
            self.outbox.add(notification)

    def _addressed(self, fired: Fired) -> list[tuple[NotificationRule, str, Person]]:
        """Each notification an applied event calls for: its rule, its key and its recipient."""
        application = fired.application
        return [
            (rule, key, self._person_of(rule.to, person, application))
            for rule, key, person in self._keys(fired)
        ]

    def _keys(self, fired: Fired) -> list[tuple[NotificationRule, str, str]]:
        """Each notification an applied event calls for: its rule, its key and whom it is for.

        What ``_addressed`` gives, with the recipient's id for the person: all a count needs.
        """
        record = fired.record
        rules = self._rules(fired.policy).on(record)
        if not rules:
            return []
        application = fired.application
        requisition = self._requisition(application, fired.requisition)
        found = []
        application_id, version = application.id, record.version  # read once (pydantic)
        for rule in rules:
            if rule.to == _ON_BEHALF_OF:  # the person the record was fired for
                people: Iterable[str] = (str(record.data["on_behalf_of"]),)
            else:
                people = self._recipient_ids(rule.to, application, requisition)
            for person in people:
                key = notification_key(application_id, version, rule.name, person)
                found.append((rule, key, person))
        return found

    # -- creation and deadlines ----------------------------------------------------------------

    def created(
        self, application: Application, requisition: Requisition | None = None
    ) -> list[Notification]:
        """Notify of a new application (rules with ``deadline="created"``); return what was added.

        Call it after ``Pipeline.new_application``; calling it again adds nothing.
        """
        requisition = self._requisition(application, requisition)
        made = []
        copies = snapshot(application, requisition)
        for rule, key, person in self._addressed_created(application, requisition):
            if key not in self.outbox:
                scene = Scene(
                    *copies,
                    self.policy,
                    CREATED,
                    application.created_at,
                    self.policy.initial,
                    person,
                )
                made.append(self._notification(rule, key, scene))
        return [n for n in made if self.outbox.add(n)]

    def _addressed_created(
        self, application: Application, requisition: Requisition
    ) -> list[tuple[NotificationRule, str, Person]]:
        """Each notification a new application calls for: its rule, key and recipient."""
        return [
            (rule, key, self._person_of(rule.to, person, application))
            for rule, key, person in self._keys_created(application, requisition)
        ]

    def _keys_created(
        self, application: Application, requisition: Requisition
    ) -> list[tuple[NotificationRule, str, str]]:
        """``_addressed_created`` with the recipient's id for the person."""
        return [
            (rule, notification_key(application.id, 0, rule.name, person), person)
            for rule in self._rules(self.policy).created
            for person in self._recipient_ids(rule.to, application, requisition)
        ]

    def sweep(
        self,
        applications: Iterable[Application],
        requisitions: Mapping[str, Requisition] | Iterable[Requisition] | None,
        now: _dt.datetime,
    ) -> list[Notification]:
        """Add the notifications that deadlines call for at ``now``; return what was added.

        Run it from a daily (or hourly) job: it finds overdue service-level deadlines for the
        rules with a ``deadline``, candidates owed a periodic update, and applications whose
        creation was never notified while it is still owed (nothing happened yet, or round
        1's thank-you is still open). Each deadline notifies
        once. Raises CalendarError for a naive ``now``.
        """
        _aware(now)
        at = as_instant(now)
        given = _by_id(requisitions)
        self._known.update(given)
        rules = self._rules(self.policy)
        made: list[Notification] = []
        for application in applications:
            requisition = self._requisition(application, given.get(application.requisition_id))
            deadlines = (
                self.levels.deadlines(application, requisition)
                if rules.deadline or (rules.created and application.version)
                else []
            )
            if rules.created and (
                application.version == 0 or any(d.kind == DeadlineKind.thank_you for d in deadlines)
            ):
                # never told of the creation, or round 1's thank-you still owed: what is owed
                # and missing is queued (created() adds only the keys the outbox lacks)
                made += self.created(application, requisition)
            if not rules.deadline:
                continue
            for rule in rules.deadline:
                found = self._deadline_notifications(rule, application, requisition, deadlines, at)
                made += (n for n in found if self.outbox.add(n))
        return made

    def who_needs_an_update(
        self,
        applications: Iterable[Application],
        requisitions: Mapping[str, Requisition] | Iterable[Requisition] | None,
        now: _dt.datetime,
    ) -> list[UpdateDue]:
        """``who_needs_an_update`` with this notifier's outbox and service levels."""
        apps = list(applications)
        given = dict(_by_id(requisitions))
        for application in apps:
            if application.requisition_id not in given:
                given[application.requisition_id] = self._requisition(application, None)
        return who_needs_an_update(apps, given, now, outbox=self.outbox, levels=self.levels)

    # -- delivery ------------------------------------------------------------------------------

    def deliver(
        self, sender: Sender, now: _dt.datetime, *, limit: int | None = None
    ) -> DeliveryReport:
        """Send what is due at ``now`` through ``sender`` (see ``deliver``)."""
        return deliver(self.outbox, sender, now, templates=self.templates, limit=limit)

    def render(self, notification: Notification) -> Message:
        """Render ``notification`` with this notifier's templates."""
        return self.templates.render(notification.template, notification.facts)

    # -- helpers -------------------------------------------------------------------------------

    def _deadline_notifications(
        self,
        rule: NotificationRule,
        application: Application,
        requisition: Requisition,
        deadlines: list[Deadline],
        now: Any,
    ) -> list[Notification]:
        made = []
        if rule.deadline == DeadlineKind.candidate_update:
            owed = update_due(
                application,
                requisition,
                now,
                levels=self.levels,
                outbox=self.outbox,
                deadlines=deadlines,
            )
            if owed is None or owed[0].queued:
                return []  # not yet owed, or a message to the candidate is on its way
            waiting, deadline = owed
            instances: list[tuple[Deadline, Any, int | None]] = [
                (deadline, waiting.last_contact, waiting.business_days_since)
            ]
        else:
            instances = [
                (d, None, None) for d in deadlines if d.kind == rule.deadline and d.is_overdue(now)
            ]
        copies = snapshot(application, requisition) if instances else None
        for deadline, last_contact, waited in instances:
            assert copies is not None
            since = (last_contact or deadline.since).isoformat()
            people = self._recipients(rule.to, application, requisition, deadline.owed_by)
            for person in people:
                occasion = f"{deadline.kind}@{since}"
                key = notification_key(application.id, occasion, rule.name, person.id)
                if key in self.outbox:
                    continue
                scene = Scene(
                    *copies,
                    self.policy,
                    deadline.kind,
                    now,
                    application.stage,
                    person,
                    deadline=deadline,
                    last_contact=last_contact,
                    business_days_since=waited,
                )
                made.append(self._notification(rule, key, scene))
        return made

    def _notification(self, rule: NotificationRule, key: str, scene: Scene) -> Notification:
        at = scene.at
        due = at
        if rule.delay_days:
            calendar = self.levels.calendar(scene.requisition)
            due = as_instant(calendar.add_business_days(at, rule.delay_days))
        person = scene.recipient
        return Notification(
            key=key,
            rule=rule.name,
            template=rule.template,
            application_id=scene.application.id,
            requisition_id=scene.requisition.id,
            trigger=scene.trigger,
            role=person.role,
            to=person.id,
            address=person.address,
            created_at=at,
            due_at=due,
            next_attempt_at=due,
            facts=self._facts.lazy(self.templates.needs(rule.template), scene),
            records=rule.records,
        )

    def _rules(self, policy: Policy) -> _Rules:
        rules = self._rules_of.get(id(policy))
        if rules is None or rules.policy is not policy:
            self.templates.check(rule.template for rule in policy.notifications)
            rules = self._rules_of[id(policy)] = _Rules(policy)
        return rules

    def _requisition(self, application: Application, given: Requisition | None) -> Requisition:
        wanted = application.requisition_id
        if given is not None and given.id == wanted:
            self._known[wanted] = given
            return given
        found = self._known.get(wanted)
        if found is None and self._lookup is not None:
            found = self._lookup(wanted)
            if found is not None:
                self._known[wanted] = found
        if found is None:
            raise NotificationError(
                f"no requisition {wanted!r} for application {application.id!r}: fire the event "
                "with requisition=..., call created() with it, or give the Notifier requisitions"
            )
        return found

    def _recipients(
        self,
        role: str,
        application: Application,
        requisition: Requisition,
        owed_by: tuple[str, ...] | None = None,
    ) -> list[Person]:
        return [
            self._person_of(role, person, application)
            for person in self._recipient_ids(role, application, requisition, owed_by)
        ]

    def _recipient_ids(
        self,
        role: str,
        application: Application,
        requisition: Requisition,
        owed_by: tuple[str, ...] | None = None,
    ) -> Sequence[str]:
        """Whom ``role`` names for the application (for a deadline, those who owe it): ids."""
        if role == _CANDIDATE:
            return (application.candidate.id,)
        if role == _REFEREES:
            return [r.referee for r in application.references]
        if role == _HIRING_MANAGER:
            ids: Iterable[str] = (requisition.hiring_manager,)
        elif role == _RECRUITER:
            ids = (requisition.recruiter or requisition.hiring_manager,)
        elif role == _APPROVERS:
            # everyone in the application's approval chain (its own steps, or the approvers
            # by size; with position approval, its offer steps)
            states = application_approval_state(application, requisition, self.policy)
            ids = [person for state in states for person in state.approvers]
        elif role == _INTERVIEWERS:
            interview = application.interview()
            ids = interview.interviewers if interview is not None else ()
        elif role == _ON_BEHALF_OF:
            return ()  # only an applied record names the person acted for
        else:
            raise NotificationError(f"unknown recipient role {role!r}")
        if owed_by is not None and role in _FILTERED_BY_OWER:
            ids = [person for person in ids if person in owed_by]
        return list(dict.fromkeys(ids))

    def _person_of(self, role: str, person: str, application: Application) -> Person:
        """The recipient ``person`` (an id ``_recipient_ids`` gave, or the person acted for)."""
        candidate = application.candidate
        if role == _CANDIDATE or (role == _ON_BEHALF_OF and person == candidate.id):
            return Person(role, person, candidate.name, candidate.email)
        if role == _REFEREES:
            for reference in application.references:  # the first one on record says
                if reference.referee == person:
                    if "@" in reference.contact:
                        return Person(role, person, person, reference.contact)
                    break
        return self._person(role, person)

    def _person(self, role: str, person: str) -> Person:
        address = self._directory(person) if self._directory is not None else None
        if address is None and "@" in person:
            address = person
        return Person(role, person, person, address)

    def __repr__(self) -> str:
        return f"Notifier({self.policy!r}, {len(self.policy.notifications)} rules, {self.outbox!r})"


class CountingNotifier:
    """Counts, per rule, the notifications a [`Notifier`][hirepipe.notify.Notifier] would add.

    A hook for runs that only report how many notifications each rule called for (the
    simulator): the same rules, recipients and idempotency keys as the Notifier's own (it asks
    ``notifier`` for them), without snapshots, scenes, facts or outbox entries. ``counts``
    holds this round's tally by rule and ``keys`` the keys counted; ``reset`` starts a new
    round and forgets the requisitions seen, so one counter serves any number of runs.
    """

    __slots__ = ("_copied", "counts", "keys", "notifier")

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.counts: dict[str, int] = {}
        self.keys: set[str] = set()
        # per template application (created_copy): the template, its creation's rules and
        # recipients
        self._copied: dict[str, tuple[Application, list[tuple[NotificationRule, str]]]] = {}

    def reset(self) -> None:
        """Forget what was counted and which requisitions were seen."""
        self.counts.clear()
        self.keys.clear()
        self.notifier._known.clear()

    def __call__(self, fired: Fired, /) -> None:
        """Count the notifications of one applied event (each key once)."""
        self._count(self.notifier._keys(fired))

    def created(self, application: Application, requisition: Requisition | None = None) -> None:
        """Count the notifications of a new application (each key once)."""
        notifier = self.notifier
        requisition = notifier._requisition(application, requisition)
        self._count(notifier._keys_created(application, requisition))

    def created_copy(
        self, application: Application, template: Application, requisition: Requisition
    ) -> None:
        """Count the notifications of a new application copied from ``template``.

        ``application`` is ``template`` with ids of its own, ``requisition`` the template's
        requisition with an id of its own (naming the same people): the creation notifies the
        template's recipients (found once per template object, and kept across ``reset``),
        under the application's keys.
        """
        notifier = self.notifier
        requisition = notifier._requisition(application, requisition)
        kept = self._copied.get(template.id)
        if kept is not None and kept[0] is template:
            found = kept[1]
        else:  # a template not seen yet, or another one under the same id
            found = [
                (rule, person) for rule, _, person in notifier._keys_created(template, requisition)
            ]
            self._copied[template.id] = (template, found)
        application_id = application.id  # read once (a pydantic field)
        self._count(
            [
                (rule, notification_key(application_id, 0, rule.name, person), person)
                for rule, person in found
            ]
        )

    def _count(self, addressed: list[tuple[NotificationRule, str, str]]) -> None:
        keys, counts = self.keys, self.counts
        for rule, key, _ in addressed:
            if key not in keys:
                keys.add(key)
                counts[rule.name] = counts.get(rule.name, 0) + 1

    def __repr__(self) -> str:
        return f"CountingNotifier({self.notifier.policy!r}, {len(self.keys)} counted)"


def _aware(now: _dt.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise CalendarError(f"naive now {now.isoformat()}: pass an aware datetime")


def _by_id(
    requisitions: Mapping[str, Requisition] | Iterable[Requisition] | None,
) -> Mapping[str, Requisition]:
    if requisitions is None:
        return {}
    if isinstance(requisitions, Mapping):
        return requisitions
    return {requisition.id: requisition for requisition in requisitions}
