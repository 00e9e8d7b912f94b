"""Seeded what-if simulations of whole requisitions, through the real rules.

```python
from hirepipe import standard_policy
from hirepipe.simulate import Scenario, compare, simulate

scenario = Scenario(industry="engineering", company_size="large", candidates=8)
result = simulate(standard_policy(), scenario, runs=2_000, seed=1)
result.time_to_offer.business_days.p80      # business days from the interviews
slower = scenario.model_copy(update={"extra_days": {"approval": 5}})
compare(scenario, slower, runs=2_000, seed=1).differences["offer_business_days"]
```

The same seed gives the same result byte for byte, whatever the number of workers or the
executor (a process pool, a Dask cluster: ``executor=client.get_executor()``); how a run
works and what it assumes is in ``docs/simulation.md``.
"""

from hirepipe.simulate._results import BREACH_KINDS as BREACH_KINDS
from hirepipe.simulate._results import Breaches as Breaches
from hirepipe.simulate._results import Comparison as Comparison
from hirepipe.simulate._results import Difference as Difference
from hirepipe.simulate._results import Durations as Durations
from hirepipe.simulate._results import Notifications as Notifications
from hirepipe.simulate._results import RunRecord as RunRecord
from hirepipe.simulate._results import SimulationResult as SimulationResult
from hirepipe.simulate._results import Summary as Summary
from hirepipe.simulate._scenario import Scenario as Scenario
from hirepipe.simulate._scenario import SimulationError as SimulationError
from hirepipe.simulate._simulate import compare as compare
from hirepipe.simulate._simulate import simulate as simulate

__all__ = [
    "BREACH_KINDS",
    "Breaches",
    "Comparison",
    "Difference",
    "Durations",
    "Notifications",
    "RunRecord",
    "Scenario",
    "SimulationError",
    "SimulationResult",
    "Summary",
    "compare",
    "simulate",
]
