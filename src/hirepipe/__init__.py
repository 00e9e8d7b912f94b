"""hirepipe: the rules of what happens after a job interview.

The post-interview lifecycle as guarded transitions on Pydantic models, with business-day
timelines and notification hooks. Start with [`Pipeline`][hirepipe.pipeline.Pipeline] and
[`standard_policy`][hirepipe.standard.standard_policy]:

```python
pipeline = Pipeline(standard_policy())
application = pipeline.new_application(candidate, requisition, interviewers=["alice"])
pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
```

The package is layered; each layer imports only those before it (``tests/test_layers.py``
checks it):

1. ``_version`` and ``errors``: the version and the one exception tree (and ``_fork``, the
   locks a forked child makes afresh);
2. ``clock`` and ``_types``: where time comes from, and the shared field types; with them the
   business-day calendar (``timeline.calendar``), which guards may use, and ``_redact``, what
   an error may say where personal data must not go (logs, stored problems);
3. ``models``: the Pydantic data (Candidate, Requisition, Application, records);
4. ``policy``: a lifecycle as data (stages and their roles, events, guards, settings, io);
5. ``privacy``: which fields are personal, erasing them, retention and consent;
6. ``standard``: the standard lifecycle, the only place that names its stages;
7. ``_machine``: the one module that imports ``transitions``, which decides every transition;
8. ``pipeline`` and ``positions``: the facades that apply events to applications and to
   requisitions' own lifecycle;
9. ``timeline``: business days, service levels and deadlines, the timeline estimator;
10. ``reports``: the funnel, time in stage and missed service levels, from histories;
11. ``slate``: the requisition level (review, fill, fall-through);
12. ``notify``: candidate communications, templates, the outbox and its senders;
13. ``simulate``: seeded what-if runs through the real engine;
14. ``store``: the optional durable store (SQLAlchemy Core);
15. ``cli``: the optional command line;
16. ``testing`` and ``pytest_plugin``: the test kit, which nothing in production imports.
"""

from hirepipe._version import __version__

# `typing` itself takes longer to import than the rest of this module: the constant is enough
TYPE_CHECKING = False
if TYPE_CHECKING:
    from hirepipe.clock import Clock as Clock
    from hirepipe.clock import SystemClock as SystemClock
    from hirepipe.errors import Blocker as Blocker
    from hirepipe.errors import CalendarError as CalendarError
    from hirepipe.errors import ConcurrentUpdate as ConcurrentUpdate
    from hirepipe.errors import DeliveryError as DeliveryError
    from hirepipe.errors import EstimateError as EstimateError
    from hirepipe.errors import GuardRejected as GuardRejected
    from hirepipe.errors import HirepipeError as HirepipeError
    from hirepipe.errors import NotificationError as NotificationError
    from hirepipe.errors import PolicyError as PolicyError
    from hirepipe.errors import PolicyProblem as PolicyProblem
    from hirepipe.errors import PositionError as PositionError
    from hirepipe.errors import RequisitionMismatch as RequisitionMismatch
    from hirepipe.errors import SimulationError as SimulationError
    from hirepipe.errors import SlateError as SlateError
    from hirepipe.errors import TemplateError as TemplateError
    from hirepipe.errors import TransitionError as TransitionError
    from hirepipe.errors import TransitionNotAllowed as TransitionNotAllowed
    from hirepipe.models import Application as Application
    from hirepipe.models import Approval as Approval
    from hirepipe.models import ApprovalStep as ApprovalStep
    from hirepipe.models import Band as Band
    from hirepipe.models import Candidate as Candidate
    from hirepipe.models import CompanySize as CompanySize
    from hirepipe.models import Interview as Interview
    from hirepipe.models import Offer as Offer
    from hirepipe.models import OfferField as OfferField
    from hirepipe.models import OfferStatus as OfferStatus
    from hirepipe.models import Recommendation as Recommendation
    from hirepipe.models import Reference as Reference
    from hirepipe.models import ReferenceOutcome as ReferenceOutcome
    from hirepipe.models import ReferenceStatus as ReferenceStatus
    from hirepipe.models import Rejection as Rejection
    from hirepipe.models import Requisition as Requisition
    from hirepipe.models import RequisitionStatus as RequisitionStatus
    from hirepipe.models import Scorecard as Scorecard
    from hirepipe.models import Substitution as Substitution
    from hirepipe.models import TransitionRecord as TransitionRecord
    from hirepipe.pipeline import Fired as Fired
    from hirepipe.pipeline import Hook as Hook
    from hirepipe.pipeline import HookFailure as HookFailure
    from hirepipe.pipeline import Pipeline as Pipeline
    from hirepipe.policy import Change as Change
    from hirepipe.policy import Context as Context
    from hirepipe.policy import EventData as EventData
    from hirepipe.policy import EventSpec as EventSpec
    from hirepipe.policy import GuardSpec as GuardSpec
    from hirepipe.policy import NotificationRule as NotificationRule
    from hirepipe.policy import Policy as Policy
    from hirepipe.policy import PolicySettings as PolicySettings
    from hirepipe.policy import Recipient as Recipient
    from hirepipe.policy import Registry as Registry
    from hirepipe.policy import RejectionSide as RejectionSide
    from hirepipe.policy import Role as Role
    from hirepipe.policy import RoleResolver as RoleResolver
    from hirepipe.policy import StageKind as StageKind
    from hirepipe.policy import StageSpec as StageSpec
    from hirepipe.positions import Positions as Positions
    from hirepipe.slate import Slate as Slate
    from hirepipe.standard import standard_policy as standard_policy
    from hirepipe.standard import standard_registry as standard_registry
    from hirepipe.timeline import BusinessCalendar as BusinessCalendar
    from hirepipe.timeline import Deadline as Deadline
    from hirepipe.timeline import DeadlineKind as DeadlineKind
    from hirepipe.timeline import Estimate as Estimate
    from hirepipe.timeline import FitReport as FitReport
    from hirepipe.timeline import Priors as Priors
    from hirepipe.timeline import ServiceLevels as ServiceLevels
    from hirepipe.timeline import StageDistribution as StageDistribution
    from hirepipe.timeline import TimelineEstimator as TimelineEstimator

__all__ = [
    "Application",
    "Approval",
    "ApprovalStep",
    "Band",
    "Blocker",
    "BusinessCalendar",
    "CalendarError",
    "Candidate",
    "Change",
    "Clock",
    "CompanySize",
    "ConcurrentUpdate",
    "Context",
    "Deadline",
    "DeadlineKind",
    "DeliveryError",
    "Estimate",
    "EstimateError",
    "EventData",
    "EventSpec",
    "Fired",
    "FitReport",
    "GuardRejected",
    "GuardSpec",
    "HirepipeError",
    "Hook",
    "HookFailure",
    "Interview",
    "NotificationError",
    "NotificationRule",
    "Offer",
    "OfferField",
    "OfferStatus",
    "Pipeline",
    "Policy",
    "PolicyError",
    "PolicyProblem",
    "PolicySettings",
    "PositionError",
    "Positions",
    "Priors",
    "Recipient",
    "Recommendation",
    "Reference",
    "ReferenceOutcome",
    "ReferenceStatus",
    "Registry",
    "Rejection",
    "RejectionSide",
    "Requisition",
    "RequisitionMismatch",
    "RequisitionStatus",
    "Role",
    "RoleResolver",
    "Scorecard",
    "ServiceLevels",
    "SimulationError",
    "Slate",
    "SlateError",
    "StageDistribution",
    "StageKind",
    "StageSpec",
    "Substitution",
    "SystemClock",
    "TemplateError",
    "TimelineEstimator",
    "TransitionError",
    "TransitionNotAllowed",
    "TransitionRecord",
    "__version__",
    "standard_policy",
    "standard_registry",
]

# Each public name and the module it lives in, imported when the name is first used (PEP 562):
# `import hirepipe` stays cheap (the pytest plugin and the command line import it), and numpy,
# holidays and Jinja2 load only with what needs them. tests/test_public_api.py keeps this table,
# the imports above and __all__ in step.
_HOMES: dict[str, tuple[str, ...]] = {
    "hirepipe.clock": ("Clock", "SystemClock"),
    "hirepipe.errors": (
        "Blocker",
        "CalendarError",
        "ConcurrentUpdate",
        "DeliveryError",
        "EstimateError",
        "GuardRejected",
        "HirepipeError",
        "NotificationError",
        "PolicyError",
        "PolicyProblem",
        "PositionError",
        "RequisitionMismatch",
        "SimulationError",
        "SlateError",
        "TemplateError",
        "TransitionError",
        "TransitionNotAllowed",
    ),
    "hirepipe.models": (
        "Application",
        "Approval",
        "ApprovalStep",
        "Band",
        "Candidate",
        "CompanySize",
        "Interview",
        "Offer",
        "OfferField",
        "OfferStatus",
        "Recommendation",
        "Reference",
        "ReferenceOutcome",
        "ReferenceStatus",
        "Rejection",
        "Requisition",
        "RequisitionStatus",
        "Scorecard",
        "Substitution",
        "TransitionRecord",
    ),
    "hirepipe.pipeline": ("Fired", "Hook", "HookFailure", "Pipeline"),
    "hirepipe.policy": (
        "Change",
        "Context",
        "EventData",
        "EventSpec",
        "GuardSpec",
        "NotificationRule",
        "Policy",
        "PolicySettings",
        "Recipient",
        "Registry",
        "RejectionSide",
        "Role",
        "RoleResolver",
        "StageKind",
        "StageSpec",
    ),
    "hirepipe.positions": ("Positions",),
    "hirepipe.slate": ("Slate",),
    "hirepipe.standard": ("standard_policy", "standard_registry"),
    "hirepipe.timeline": (
        "BusinessCalendar",
        "Deadline",
        "DeadlineKind",
        "Estimate",
        "FitReport",
        "Priors",
        "ServiceLevels",
        "StageDistribution",
        "TimelineEstimator",
    ),
}
if not TYPE_CHECKING:  # type checkers see the imports above, and no name outside them
    from hirepipe._lazy import lazy_names

    __getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__)
    del lazy_names


del TYPE_CHECKING
