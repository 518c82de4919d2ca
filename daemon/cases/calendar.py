"""Business hours: when a reminder or escalation may reach a person.

Pure arithmetic on naive-UTC datetimes and a working week in a timezone; the
caller passes ``now``. Without business hours every moment is a working one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")


@dataclass(frozen=True)
class BusinessHours:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    timezone: ZoneInfo
    holidays: frozenset[date] = field(default_factory=frozenset)

    def is_working(self, moment: datetime) -> bool:
        local = moment.replace(tzinfo=UTC).astimezone(self.timezone)
        return (local.weekday() in self.days and local.date() not in self.holidays
                and self.start <= local.time() < self.end)

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself when it is within hours, else the start of the next working period (naive UTC)."""
        if self.is_working(moment):
            return moment
        local = moment.replace(tzinfo=UTC).astimezone(self.timezone)
        day = local.date()
        if local.time() >= self.start and (local.weekday() in self.days and day not in self.holidays):
            day += timedelta(days=1)  # after hours today: tomorrow at the earliest
        for _ in range(400):
            if day.weekday() in self.days and day not in self.holidays:
                # A start inside the hour a clock change repeats happens twice (fold 0 and 1); one inside
                # the hour it skips reads as just after it, and when the whole working period was skipped
                # that day, the day has no working moment.
                for fold in (0, 1):
                    start = (datetime.combine(day, self.start, tzinfo=self.timezone).replace(fold=fold)
                             .astimezone(UTC).replace(tzinfo=None))
                    if start >= moment and self.is_working(start):
                        return start
            day += timedelta(days=1)
        return moment  # no working day in a year: do not hold anything back forever


def parse_days(text: str) -> frozenset[int]:
    """``Mon-Fri``, ``Mon,Wed,Fri`` or ``Sun-Thu`` into weekday numbers; ValueError otherwise."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            i, j = _day(a), _day(b)
            k = i
            while True:
                days.add(k)
                if k == j:
                    break
                k = (k + 1) % 7
        else:
            days.add(_day(part))
    if not days:
        raise ValueError("no days given")
    return frozenset(days)


def _day(name: str) -> int:
    """``mon``, ``tues``, ``thurs``, ``monday``: at least three letters of a day's name, nothing else."""
    for number, full in enumerate(FULL_DAY_NAMES):
        if len(name) >= 3 and full.startswith(name):
            return number
    raise ValueError(f"{name!r} is not a day; write Mon, Tue, Wed, Thu, Fri, Sat or Sun")


def parse_clock(text: str) -> time:
    m = _CLOCK.fullmatch(text.strip())
    try:
        if not m:
            raise ValueError(text)
        return time(int(m.group(1)), int(m.group(2)))
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day; write HH:MM such as 09:00") from None
