"""Business hours: when a reminder or escalation may reach a person.

Pure arithmetic on naive-UTC datetimes and a working week in a timezone; the
caller passes ``now``. Without business hours every moment is a working one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
                start = datetime.combine(day, self.start, tzinfo=self.timezone)
                if start.astimezone(UTC).replace(tzinfo=None) >= moment:
                    return start.astimezone(UTC).replace(tzinfo=None)
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
    key = name[:3]
    if key not in DAY_NAMES:
        raise ValueError(f"{name!r} is not a day; write Mon, Tue, Wed, Thu, Fri, Sat or Sun")
    return DAY_NAMES.index(key)


def parse_clock(text: str) -> time:
    try:
        hour, minute = text.strip().split(":")
        return time(int(hour), int(minute))
    except (ValueError, TypeError):
        raise ValueError(f"{text!r} is not a time of day; write HH:MM such as 09:00") from None
