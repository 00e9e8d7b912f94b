"""The standard post-interview lifecycle of the design: stages, events, guards, effects, rules.

```python
from hirepipe.standard import standard_policy

policy = standard_policy()
policy.events["extend_offer"].data_model  # OfferData: what the event accepts
```

The only package that names a standard stage. The data models say what each standard event
accepts as keyword data in [`hirepipe.Pipeline.fire`][hirepipe.pipeline.Pipeline.fire].
"""

from hirepipe.standard._background import ADVERSE_ACTION_REASON as ADVERSE_ACTION_REASON
from hirepipe.standard._background import BACKGROUND_STAGES as BACKGROUND_STAGES
from hirepipe.standard._background import AdjudicationData as AdjudicationData
from hirepipe.standard._background import AuthorizationData as AuthorizationData
from hirepipe.standard._background import BackgroundOrderData as BackgroundOrderData
from hirepipe.standard._background import BackgroundResultData as BackgroundResultData
from hirepipe.standard._background import DisclosureData as DisclosureData
from hirepipe.standard._background import DisputeData as DisputeData
from hirepipe.standard._background import DisputeResolutionData as DisputeResolutionData
from hirepipe.standard._background import FinalAdverseActionData as FinalAdverseActionData
from hirepipe.standard._background import PreAdverseNoticeData as PreAdverseNoticeData
from hirepipe.standard._background import waiting_period as waiting_period
from hirepipe.standard._data import ApprovalData as ApprovalData
from hirepipe.standard._data import ApproveData as ApproveData
from hirepipe.standard._data import CounterData as CounterData
from hirepipe.standard._data import HeldData as HeldData
from hirepipe.standard._data import KeepWarmData as KeepWarmData
from hirepipe.standard._data import NextRoundData as NextRoundData
from hirepipe.standard._data import NoteData as NoteData
from hirepipe.standard._data import OfferData as OfferData
from hirepipe.standard._data import RefereeData as RefereeData
from hirepipe.standard._data import ReferenceData as ReferenceData
from hirepipe.standard._data import ReferenceResultData as ReferenceResultData
from hirepipe.standard._data import RejectData as RejectData
from hirepipe.standard._data import RetargetData as RetargetData
from hirepipe.standard._data import SalaryData as SalaryData
from hirepipe.standard._data import ScorecardData as ScorecardData
from hirepipe.standard._data import SubstitutionData as SubstitutionData
from hirepipe.standard._effects import STANDARD_EFFECTS as STANDARD_EFFECTS
from hirepipe.standard._feedback import FeedbackRequestData as FeedbackRequestData
from hirepipe.standard._feedback import SendFeedbackData as SendFeedbackData
from hirepipe.standard._guards import STANDARD_GUARDS as STANDARD_GUARDS
from hirepipe.standard._notifications import STANDARD_NOTIFICATIONS as STANDARD_NOTIFICATIONS
from hirepipe.standard._policy import STANDARD_OPTIONS as STANDARD_OPTIONS
from hirepipe.standard._policy import STANDARD_REJECTION_REASONS as STANDARD_REJECTION_REASONS
from hirepipe.standard._policy import standard_policy as standard_policy
from hirepipe.standard._policy import standard_registry as standard_registry
from hirepipe.standard._scheduling import AvailabilityData as AvailabilityData
from hirepipe.standard._scheduling import ScheduleData as ScheduleData
from hirepipe.standard._scheduling import SlotsData as SlotsData
from hirepipe.standard._scorecards import StructuredScorecardData as StructuredScorecardData
from hirepipe.standard._scorecards import with_structured_scorecards as with_structured_scorecards

__all__ = [
    "ADVERSE_ACTION_REASON",
    "BACKGROUND_STAGES",
    "STANDARD_EFFECTS",
    "STANDARD_GUARDS",
    "STANDARD_NOTIFICATIONS",
    "STANDARD_OPTIONS",
    "STANDARD_REJECTION_REASONS",
    "AdjudicationData",
    "ApprovalData",
    "ApproveData",
    "AuthorizationData",
    "AvailabilityData",
    "BackgroundOrderData",
    "BackgroundResultData",
    "CounterData",
    "DisclosureData",
    "DisputeData",
    "DisputeResolutionData",
    "FeedbackRequestData",
    "FinalAdverseActionData",
    "HeldData",
    "KeepWarmData",
    "NextRoundData",
    "NoteData",
    "OfferData",
    "PreAdverseNoticeData",
    "RefereeData",
    "ReferenceData",
    "ReferenceResultData",
    "RejectData",
    "RetargetData",
    "SalaryData",
    "ScheduleData",
    "ScorecardData",
    "SendFeedbackData",
    "SlotsData",
    "StructuredScorecardData",
    "SubstitutionData",
    "standard_policy",
    "standard_registry",
    "waiting_period",
    "with_structured_scorecards",
]
