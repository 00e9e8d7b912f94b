"""The policy as data: the stages, events, guards, settings and rules of a lifecycle.

```python
from hirepipe.policy import Policy, StageSpec

policy = Policy.from_file("policy.toml")
policy = policy.with_stage(StageSpec("assessment"), after="debrief")
```

A [`Policy`][hirepipe.policy.Policy] is immutable and validated whole; its parts
([`StageSpec`][hirepipe.policy.StageSpec], [`EventSpec`][hirepipe.policy.EventSpec],
[`GuardSpec`][hirepipe.policy.GuardSpec], ...) are frozen dataclasses. A
[`Registry`][hirepipe.policy.Registry] resolves the guard and effect names a document uses;
[`paths`][hirepipe.policy.paths] lists every way through. Each event names the roles
([`Role`][hirepipe.policy.Role]) that may fire it;
[`requisition_roles`][hirepipe.policy.requisition_roles] tells who holds which on an
application.
"""

from hirepipe.policy._paths import Path as Path
from hirepipe.policy._paths import paths as paths
from hirepipe.policy._permissions import SYSTEM_ACTOR as SYSTEM_ACTOR
from hirepipe.policy._permissions import Role as Role
from hirepipe.policy._permissions import RoleResolver as RoleResolver
from hirepipe.policy._permissions import requisition_roles as requisition_roles
from hirepipe.policy._policy import Policy as Policy
from hirepipe.policy._registry import Registry as Registry
from hirepipe.policy._registry import default_registry as default_registry
from hirepipe.policy._roles import Duration as Duration
from hirepipe.policy._roles import FollowUp as FollowUp
from hirepipe.policy._roles import Owner as Owner
from hirepipe.policy._roles import ServiceLevel as ServiceLevel
from hirepipe.policy._roles import StageRole as StageRole
from hirepipe.policy._scorecards import ATTRIBUTE_RANKING as ATTRIBUTE_RANKING
from hirepipe.policy._scorecards import OVERALL as OVERALL
from hirepipe.policy._scorecards import ScorecardAttribute as ScorecardAttribute
from hirepipe.policy._scorecards import ScorecardScheme as ScorecardScheme
from hirepipe.policy._specs import ACTIVE as ACTIVE
from hirepipe.policy._specs import ANY as ANY
from hirepipe.policy._specs import OPEN as OPEN
from hirepipe.policy._specs import PREVIOUS as PREVIOUS
from hirepipe.policy._specs import Change as Change
from hirepipe.policy._specs import Context as Context
from hirepipe.policy._specs import Effect as Effect
from hirepipe.policy._specs import EffectSpec as EffectSpec
from hirepipe.policy._specs import EventData as EventData
from hirepipe.policy._specs import EventSpec as EventSpec
from hirepipe.policy._specs import Guard as Guard
from hirepipe.policy._specs import GuardSpec as GuardSpec
from hirepipe.policy._specs import NoData as NoData
from hirepipe.policy._specs import NotificationRule as NotificationRule
from hirepipe.policy._specs import PolicySettings as PolicySettings
from hirepipe.policy._specs import Recipient as Recipient
from hirepipe.policy._specs import RejectionSide as RejectionSide
from hirepipe.policy._specs import StageKind as StageKind
from hirepipe.policy._specs import StageSpec as StageSpec

__all__ = [
    "ACTIVE",
    "ANY",
    "ATTRIBUTE_RANKING",
    "OPEN",
    "OVERALL",
    "PREVIOUS",
    "SYSTEM_ACTOR",
    "Change",
    "Context",
    "Duration",
    "Effect",
    "EffectSpec",
    "EventData",
    "EventSpec",
    "FollowUp",
    "Guard",
    "GuardSpec",
    "NoData",
    "NotificationRule",
    "Owner",
    "Path",
    "Policy",
    "PolicySettings",
    "Recipient",
    "Registry",
    "RejectionSide",
    "Role",
    "RoleResolver",
    "ScorecardAttribute",
    "ScorecardScheme",
    "ServiceLevel",
    "StageKind",
    "StageRole",
    "StageSpec",
    "default_registry",
    "paths",
    "requisition_roles",
]
