"""Weekend eras: the weekend each country (or subdivision) rested on, from when, and who says so.

A country missing here rests on ``holidays``' weekend in every year. The ``holidays``
package (0.109) models some of these changes itself; where a dated public source is more
precise, or ``holidays`` misses a change, the era says so, and a test compares every era
with ``holidays`` day by day, listing each disagreement.

```python
eras = weekend_eras("AE", None)
[era.weekmask for era in eras]  # ['1110011', '1111001', '1111100']
```

Not modelled: Taiwan before 2001 (Sundays and the 2nd and 4th Saturdays: no weekmask), the
Buddhist sabbath days Thailand rested on from 1956-10-01 to 1957-10-06, Bahrain's and
Mauritania's earlier changes (no agreed dates), and Israel (Friday-Saturday throughout).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

__all__ = ["WeekendEra", "weekend_eras"]

D = _dt.date
SAT_SUN, FRI_SAT, THU_FRI = "1111100", "1111001", "1110011"
FRI, SUN, NONE = "1111011", "1111110", "1111111"


@dataclass(frozen=True, slots=True)
class WeekendEra:
    """A weekend in force from ``start`` until the next era's start.

    ``start`` is None for the first era (in force before every supported date); ``weekmask``
    is numpy's, Monday first, 1 for a working day; ``source`` says where the data comes from.
    """

    start: _dt.date | None
    weekmask: str
    source: str


_HOLIDAYS = "the holidays package's own weekend rule"

_ERAS: dict[tuple[str, str | None], tuple[WeekendEra, ...]] = {
    ("AE", None): (
        WeekendEra(
            None,
            THU_FRI,
            "Thursday-Friday until 2006-08-31 (Business Recorder, 2006-09-02, 'UAE and Bahrain "
            "switch to Friday-Saturday weekend'); holidays has Friday-Saturday before 2022",
        ),
        WeekendEra(D(2006, 9, 1), FRI_SAT, "Business Recorder, 2006-09-02 (as above)"),
        WeekendEra(
            D(2022, 1, 1),
            SAT_SUN,
            "federal government from 2022-01-01, Friday afternoon off aside (Time, 2021-12-07, "
            "'UAE working days weekend'); " + _HOLIDAYS,
        ),
    ),
    ("BH", None): (
        WeekendEra(None, THU_FRI, "Thursday-Friday since 1990 (Friday alone before: no date)"),
        WeekendEra(
            D(2006, 9, 1),
            FRI_SAT,
            "cabinet decision of 2006-07-30, from 2006-09-01 (US embassy Manama cable "
            "06MANAMA1392; Business Recorder, 2006-09-02); holidays has Friday-Saturday throughout",
        ),
    ),
    ("DZ", None): (
        WeekendEra(None, SAT_SUN, "Saturday-Sunday before 1976; " + _HOLIDAYS),
        WeekendEra(
            D(1976, 1, 1), THU_FRI, "1976 (the day is not documented; holidays takes 1 January)"
        ),
        WeekendEra(
            D(2009, 8, 14),
            FRI_SAT,
            "executive decree 09-244 of 2009-07-22, in force 2009-08-14 (qppstudio, 2009-07-24; "
            "InfoSoir); holidays switches on 2009-01-01",
        ),
    ),
    ("JO", None): (
        WeekendEra(None, THU_FRI, "Thursday-Friday before 2000-01-06; " + _HOLIDAYS),
        WeekendEra(D(2000, 1, 6), FRI_SAT, "from 2000-01-06 (WFN archive, 2000-01); " + _HOLIDAYS),
    ),
    ("KW", None): (
        WeekendEra(None, THU_FRI, "Thursday-Friday before 2007-09-01; " + _HOLIDAYS),
        WeekendEra(D(2007, 9, 1), FRI_SAT, "from 2007-09-01 (Arab News); " + _HOLIDAYS),
    ),
    ("MR", None): (
        WeekendEra(
            None,
            FRI_SAT,
            "Friday-Saturday since December 2007 (reported as the 17th and the 23rd); the "
            "changes of 1983, 2001 and 2005 are not modelled",
        ),
        WeekendEra(
            D(2014, 10, 1),
            SAT_SUN,
            "Council of Ministers of 2014-09-11, in force 2014-10-01, Friday afternoon off "
            "aside (Le Calame; AFP); holidays keeps Friday-Saturday",
        ),
    ),
    ("MY", "01"): (  # Johor
        WeekendEra(None, FRI_SAT, "Friday-Saturday before 1995; " + _HOLIDAYS),
        WeekendEra(D(1995, 1, 1), SAT_SUN, _HOLIDAYS),
        WeekendEra(D(2014, 1, 1), FRI_SAT, _HOLIDAYS),
        WeekendEra(
            D(2025, 1, 1), SAT_SUN, "decreed 2024-10-08 (The Star, 2024-10-08); " + _HOLIDAYS
        ),
    ),
    # Kedah, Kelantan, Terengganu: holidays' weekend attribute says Saturday-Sunday for every
    # Malaysian state, its date rule Friday-Saturday for these three
    ("MY", "02"): (WeekendEra(None, FRI_SAT, _HOLIDAYS),),
    ("MY", "03"): (WeekendEra(None, FRI_SAT, _HOLIDAYS),),
    ("MY", "11"): (WeekendEra(None, FRI_SAT, _HOLIDAYS),),
    ("OM", None): (
        WeekendEra(None, THU_FRI, "Thursday-Friday before 2013-05-01; " + _HOLIDAYS),
        WeekendEra(D(2013, 5, 1), FRI_SAT, "from 2013-05-01 (ABN News); " + _HOLIDAYS),
    ),
    ("QA", None): (
        WeekendEra(None, THU_FRI, "Thursday-Friday before 2003-08-01; " + _HOLIDAYS),
        WeekendEra(D(2003, 8, 1), FRI_SAT, "from 2003-08-01; " + _HOLIDAYS),
    ),
    ("SA", None): (
        WeekendEra(None, THU_FRI, "Thursday-Friday before 2013-06-29; " + _HOLIDAYS),
        WeekendEra(
            D(2013, 6, 29),
            FRI_SAT,
            "royal decree of June 2013, from Saturday 2013-06-29; holidays switches on Friday "
            "2013-06-28, a day off in both eras",
        ),
    ),
    ("SD", None): (
        WeekendEra(None, FRI, "Friday alone before 2008-01-26; " + _HOLIDAYS),
        WeekendEra(D(2008, 1, 26), FRI_SAT, "from 2008-01-26 (Sudan Tribune); " + _HOLIDAYS),
    ),
    ("TH", None): (
        WeekendEra(None, NONE, "no weekly rest day before 1939-02-28; " + _HOLIDAYS),
        WeekendEra(D(1939, 2, 28), SUN, "Sunday (and Saturday afternoon); " + _HOLIDAYS),
        WeekendEra(D(1959, 3, 1), SAT_SUN, _HOLIDAYS),
    ),
    ("YE", None): (
        WeekendEra(None, THU_FRI, "Thursday-Friday before 2013-08-15; " + _HOLIDAYS),
        WeekendEra(D(2013, 8, 15), FRI_SAT, "from 2013-08-15; " + _HOLIDAYS),
    ),
}


def weekend_eras(country: str, subdivision: str | None) -> tuple[WeekendEra, ...] | None:
    """Return the weekend eras of a country (alpha-2) or one of its subdivisions, if known.

    A subdivision without eras of its own has its country's; None when neither has any.
    """
    return _ERAS.get((country, subdivision)) or _ERAS.get((country, None))
