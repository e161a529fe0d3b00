"""Time constraints in a question, English and Chinese: "yesterday", "last week", "in October",
"3 days ago", "上周", "三天前", "10月", "2026-11-02" → a range of local time ``[since, until)``.

Relative periods whose extent matters (a week, a month) are matched here, because a date
parser answers with a single instant ("last week" → a day seven days back). Everything else
(absolute dates in many spellings, "March 3rd", "2 Nov 2026") goes to ``dateparser``, a kept
library, and becomes that day (or month, or year, by what the phrase names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

DAY = timedelta(days=1)
MONTHS_EN = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
             "november", "december"]
MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS_EN)} | {"sept": 9}
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass(frozen=True)
class TimeRange:
    since: float  # epoch seconds, inclusive
    until: float  # exclusive
    phrase: str  # the words of the question that said it
    label: str  # what was understood, e.g. "2026-11-23 – 2026-11-29"


def zh_number(text: str) -> int | None:
    """"3" / "三" / "十二" / "二十" → int."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in ZH_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (ZH_DIGITS.get(tens, 1) if tens else 1) * 10 + (ZH_DIGITS.get(ones, 0) if ones else 0)
    n = 0
    for ch in text:
        n = n * 10 + ZH_DIGITS[ch]
    return n


def _num(text: str) -> int | None:
    words = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
             "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}
    t = text.lower().strip()
    return words.get(t) if t in words else zh_number(t)


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def _month_range(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1)
    end = datetime(year + (month == 12), month % 12 + 1, 1)
    return start, end


def _recent_month(month: int, today: date) -> tuple[datetime, datetime]:
    """The most recent ``month`` that has begun (October in December → this year's)."""
    year = today.year if month <= today.month else today.year - 1
    return _month_range(year, month)


_NUM = r"(\d+|[零〇一二两三四五六七八九十]+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few)"
_MONTH_EN = r"(" + "|".join(MONTHS_EN) + r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"



def _rules() -> list[tuple[re.Pattern[str], object]]:
    def days_ago(m: re.Match[str], today: date) -> tuple[datetime, datetime] | None:
        n = _num(m.group(1))
        if n is None:
            return None
        d = today - n * DAY
        return _day_start(d), _day_start(d) + DAY

    def weeks_ago(m: re.Match[str], today: date) -> tuple[datetime, datetime] | None:
        n = _num(m.group(1))
        if n is None:
            return None
        monday = today - timedelta(days=today.weekday()) - timedelta(weeks=n)
        return _day_start(monday), _day_start(monday) + 7 * DAY

    def months_ago(m: re.Match[str], today: date) -> tuple[datetime, datetime] | None:
        n = _num(m.group(1))
        if n is None:
            return None
        y, mo = today.year, today.month - n
        while mo < 1:
            y, mo = y - 1, mo + 12
        return _month_range(y, mo)

    def last_n_days(m: re.Match[str], today: date) -> tuple[datetime, datetime] | None:
        n = _num(m.group(1))
        if n is None:
            return None
        return _day_start(today - (n - 1) * DAY), _day_start(today) + DAY

    def last_n_weeks(m: re.Match[str], today: date) -> tuple[datetime, datetime] | None:
        n = _num(m.group(1))
        if n is None:
            return None
        return _day_start(today - (7 * n - 1) * DAY), _day_start(today) + DAY

    def fixed(offset_days: int, length: int = 1):  # type: ignore[no-untyped-def]
        def h(m: re.Match[str], today: date) -> tuple[datetime, datetime]:
            d = today + offset_days * DAY
            return _day_start(d), _day_start(d) + length * DAY
        return h

    def week(offset: int):  # type: ignore[no-untyped-def]
        def h(m: re.Match[str], today: date) -> tuple[datetime, datetime]:
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
            return _day_start(monday), _day_start(monday) + 7 * DAY
        return h

    def month(offset: int):  # type: ignore[no-untyped-def]
        def h(m: re.Match[str], today: date) -> tuple[datetime, datetime]:
            y, mo = today.year, today.month + offset
            while mo < 1:
                y, mo = y - 1, mo + 12
            return _month_range(y, mo)
        return h

    def year(offset: int):  # type: ignore[no-untyped-def]
        def h(m: re.Match[str], today: date) -> tuple[datetime, datetime]:
            return datetime(today.year + offset, 1, 1), datetime(today.year + offset + 1, 1, 1)
        return h

    def zh_month_day(m: re.Match[str], today: date) -> tuple[datetime, datetime] | None:
        mo, d = zh_number(m.group(1)), zh_number(m.group(2))
        if not mo or not d or not 1 <= mo <= 12:
            return None
        y = today.year if (mo, d) <= (today.month, today.day) else today.year - 1
        try:
            start = datetime(y, mo, d)
        except ValueError:
            return None
        return start, start + DAY

    def zh_month(m: re.Match[str], today: date) -> tuple[datetime, datetime] | None:
        mo = zh_number(m.group(1))
        if not mo or not 1 <= mo <= 12:
            return None
        return _recent_month(mo, today)

    def en_month(m: re.Match[str], today: date) -> tuple[datetime, datetime] | None:
        name = m.group(1).lower().rstrip(".")
        mo = MONTH_ABBR.get(name[:4] if name.startswith("sept") else name[:3])
        if mo is None:
            return None
        if m.group(2):
            return _month_range(int(m.group(2)), mo)
        return _recent_month(mo, today)

    f = re.IGNORECASE
    return [
        (re.compile(r"(?:前天|day before yesterday)", f), fixed(-2)),
        (re.compile(r"(?:昨天|昨日|yesterday)", f), fixed(-1)),
        (re.compile(r"(?:今天|今日|today|this morning|this afternoon|tonight)", f), fixed(0)),
        (re.compile(_NUM + r"\s*(?:天前|日前)", f), days_ago),
        (re.compile(r"\b" + _NUM + r"\s+days?\s+ago\b", f), days_ago),
        (re.compile(r"(?:past|last)\s+" + _NUM + r"\s+days\b", f), last_n_days),
        (re.compile(r"(?:最近|近|过去)\s*" + _NUM + r"\s*天", f), last_n_days),
        (re.compile(r"(?:past|last)\s+" + _NUM + r"\s+weeks\b", f), last_n_weeks),
        (re.compile(r"(?:最近|近|过去)\s*" + _NUM + r"\s*(?:周|个?星期|个?礼拜)", f), last_n_weeks),
        (re.compile(_NUM + r"\s*(?:周前|星期前|个星期前|礼拜前)", f), weeks_ago),
        (re.compile(r"\b" + _NUM + r"\s+weeks?\s+ago\b", f), weeks_ago),
        (re.compile(_NUM + r"\s*个?月前", f), months_ago),
        (re.compile(r"\b" + _NUM + r"\s+months?\s+ago\b", f), months_ago),
        (re.compile(r"(?:上上周|上上个?星期|week before last)", f), week(-2)),
        (re.compile(r"(?:上周|上个?星期|上个?礼拜|last week|past week|previous week)", f), week(-1)),
        (re.compile(r"(?:本周|这周|这个?星期|这个?礼拜|this week)", f), week(0)),
        (re.compile(r"(?:上个月|上月|last month|previous month)", f), month(-1)),
        (re.compile(r"(?:本月|这个月|this month)", f), month(0)),
        (re.compile(r"(?:去年|last year)", f), year(-1)),
        (re.compile(r"(?:今年|this year)", f), year(0)),
        (re.compile(r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[日号]", f),
         zh_month_day),
        (re.compile(r"(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月份?(?!前)", f), zh_month),
        (re.compile(r"\b(?:in\s+)?" + _MONTH_EN + r"(?:\s+(\d{4}))?\b(?!\s+\d{1,2}\b)", f), en_month),
        (re.compile(r"(?:最近|lately|recently)", f), last_n_days_fixed(7)),
    ]


def last_n_days_fixed(n: int):  # type: ignore[no-untyped-def]
    def h(m: re.Match[str], today: date) -> tuple[datetime, datetime]:
        return _day_start(today - (n - 1) * DAY), _day_start(today) + DAY
    return h


_RULES = _rules()
# "may" is a verb too often to be a month without "in"/a year around it.
_AMBIGUOUS_MONTHS = re.compile(r"^(?:may|mar|jan|jun|dec|sep|oct|nov|aug|apr|feb|jul)\.?$", re.IGNORECASE)


def extract_time(question: str, now: datetime | None = None) -> tuple[TimeRange | None, str]:
    """The time range the question names (None when it names none) and the question without
    those words. ``now``: local time (default: now)."""
    now = now or datetime.now()
    today = now.date()
    for pattern, handler in _RULES:
        for m in pattern.finditer(question):
            phrase = m.group(0)
            if _AMBIGUOUS_MONTHS.match(phrase.strip()) and not re.search(r"\bin\s*$", question[:m.start()], re.I):
                continue
            got = handler(m, today)  # type: ignore[operator]
            if got is None:
                continue
            start, end = got
            rest = (question[:m.start()] + " " + question[m.end():]).strip()
            return _range(start, end, phrase), rest
    return _dateparser_fallback(question, now)


def _range(start: datetime, end: datetime, phrase: str) -> TimeRange:
    last = end - DAY
    label = start.strftime("%Y-%m-%d") if last.date() == start.date() else \
        f"{start:%Y-%m-%d} – {last:%Y-%m-%d}"
    return TimeRange(start.timestamp(), end.timestamp(), phrase.strip(), label)


_DATE_LIKE = re.compile(r"\d{4}[-/.年]\d{1,2}([-/.月]\d{1,2})?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|"
                        r"\b\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH_EN + r"|"
                        + _MONTH_EN + r"\s+\d{1,2}(?:st|nd|rd|th)?\b", re.IGNORECASE)


def _dateparser_fallback(question: str, now: datetime) -> tuple[TimeRange | None, str]:
    """Absolute dates through dateparser, only where the question holds something date-shaped
    (dateparser also reads ordinary words as dates: "second", "may")."""
    m = _DATE_LIKE.search(question)
    if not m:
        return None, question
    try:
        import dateparser
    except ImportError:  # the core works without it; absolute dates are then not understood
        return None, question
    found = dateparser.parse(m.group(0), languages=["en", "zh"],
                             settings={"RELATIVE_BASE": now, "PREFER_DATES_FROM": "past"})
    if found is None:
        return None, question
    start = _day_start(found.date())
    rest = (question[:m.start()] + " " + question[m.end():]).strip()
    return _range(start, start + DAY, m.group(0)), rest
