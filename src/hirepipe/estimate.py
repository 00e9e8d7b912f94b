"""The old home of names that now live in ``hirepipe.timeline.estimate``.

Kept so that existing imports keep working; new code imports from the new home.
"""

from hirepipe.timeline.estimate import DateQuantiles as DateQuantiles
from hirepipe.timeline.estimate import Estimate as Estimate
from hirepipe.timeline.estimate import FitReport as FitReport
from hirepipe.timeline.estimate import Milestone as Milestone
from hirepipe.timeline.estimate import Priors as Priors
from hirepipe.timeline.estimate import Quantiles as Quantiles
from hirepipe.timeline.estimate import Source as Source
from hirepipe.timeline.estimate import StageDistribution as StageDistribution
from hirepipe.timeline.estimate import StageEstimate as StageEstimate
from hirepipe.timeline.estimate import StageFit as StageFit
from hirepipe.timeline.estimate import TimelineEstimator as TimelineEstimator

__all__ = [
    "DateQuantiles",
    "Estimate",
    "FitReport",
    "Milestone",
    "Priors",
    "Quantiles",
    "Source",
    "StageDistribution",
    "StageEstimate",
    "StageFit",
    "TimelineEstimator",
]
