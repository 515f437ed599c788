"""Time-zone-aware due-time maths for questionnaire protocols (pure: no Django).

A protocol says which instrument is due how often; this module turns it into concrete
UTC instants for one patient, in that patient's IANA time zone, so that reminders
arrive at the same local wall-clock time every day, also across DST transitions.

Intervals follow the recall period each instrument was validated for:

- NRS pain diary daily (IMMPACT core outcome: Dworkin et al., Pain 2005;113:9-19;
  interpretation of change: Dworkin et al., J Pain 2008;9:105-121).
- PHQ-9 (Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-613) and GAD-7
  (Spitzer et al., Arch Intern Med 2006;166:1092-1097) ask about "the last 2 weeks",
  so they are never repeated more often than every 14 days.
- ODI (Fairbank & Pynsent, Spine 2000;25:2940-2952) every 14 days for low back pain.
- DN4 (Bouhassira et al., Pain 2005;114:29-36) at baseline, then monthly.

Local times that do not map to exactly one instant (PEP 495):

- Nonexistent (spring-forward gap): the wall time is read with the UTC offset in force
  *before* the transition, i.e. pushed forward by the length of the gap: 02:30 on the
  day clocks jump from 02:00 to 03:00 becomes 03:30 (as PEP 495 ``fold=0`` and pandas
  ``nonexistent=timedelta`` do). The gap is detected by a round trip through UTC, not
  by assuming a one-hour shift.
- Ambiguous (fall-back overlap): the first occurrence (the earlier UTC instant).

All datetimes taken or returned are timezone-aware; naive input raises ``ValueError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DIAGNOSIS_KIND",
    "PROTOCOLS",
    "DueSlot",
    "Protocol",
    "ProtocolItem",
    "apply_quiet_hours",
    "consecutive_misses",
    "due_slots",
    "is_late",
    "local_to_utc",
    "merge_protocols",
    "next_due_preview",
    "protocol_for_diagnoses",
]

UTC = dt.UTC

MISSED = "missed"
PENDING = "pending"


@dataclass(frozen=True)
class ProtocolItem:
    """One instrument in a protocol.

    ``every_days=None`` means "once". With ``at_baseline=True`` the first occurrence
    is on ``start + start_offset_days``; with ``False`` the baseline occurrence is
    skipped and the series starts one interval later. ``window_hours`` is real
    elapsed time (a window spanning a DST change is still that many hours long).
    """

    instrument: str
    every_days: int | None
    start_offset_days: int = 0
    local_time: dt.time = dt.time(9, 0)
    window_hours: int = 24
    at_baseline: bool = True

    def __post_init__(self) -> None:
        name = self.instrument
        if not name:
            raise ValueError("instrument code must not be empty")
        if self.every_days is not None and self.every_days < 1:
            raise ValueError(f"{name}: every_days must be >= 1 or None")
        if self.every_days is None and not self.at_baseline:
            raise ValueError(f"{name}: a once-only item must be given at baseline")
        if self.start_offset_days < 0:
            raise ValueError(f"{name}: start_offset_days must be >= 0")
        if self.window_hours < 1:
            raise ValueError(f"{name}: window_hours must be >= 1")
        if self.local_time.tzinfo is not None:
            raise ValueError(f"{name}: local_time is a wall-clock time, no tzinfo")

    def first_offset_days(self) -> int:
        """Day offset (from plan start) of the first occurrence."""
        if self.at_baseline or self.every_days is None:
            return self.start_offset_days
        return self.start_offset_days + self.every_days


@dataclass(frozen=True)
class Protocol:
    """A named set of instruments; at most one item per instrument."""

    code: str
    items: tuple[ProtocolItem, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        codes = [item.instrument for item in self.items]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"protocol {self.code}: duplicate instruments {dupes}")

    def item(self, instrument: str) -> ProtocolItem | None:
        return next((i for i in self.items if i.instrument == instrument), None)


# Questionnaires stay open three days; the diary one day (the next one is due then).
_QUESTIONNAIRE_HOURS = 72

PROTOCOLS: dict[str, Protocol] = {
    "clbp": Protocol(
        code="clbp",
        items=(
            ProtocolItem("nrs", every_days=1),
            ProtocolItem("odi", every_days=14, window_hours=_QUESTIONNAIRE_HOURS),
            ProtocolItem("phq9", every_days=14, window_hours=_QUESTIONNAIRE_HOURS),
            ProtocolItem("gad7", every_days=14, window_hours=_QUESTIONNAIRE_HOURS),
        ),
    ),
    "neuropathic": Protocol(
        code="neuropathic",
        items=(
            ProtocolItem("nrs", every_days=1),
            ProtocolItem("dn4", every_days=28, window_hours=_QUESTIONNAIRE_HOURS),
            ProtocolItem("phq9", every_days=28, window_hours=_QUESTIONNAIRE_HOURS),
            ProtocolItem("gad7", every_days=28, window_hours=_QUESTIONNAIRE_HOURS),
        ),
    ),
}

_NEUROPATHIC_DIAGNOSES = (
    "phn",
    "trigeminal_neuralgia",
    "dpn",
    "crps",
    "carpal_tunnel",
    "ulnar_neuropathy",
    "tos",
    "peroneal_entrapment",
    "sci_pain",
    "brachial_plexus_avulsion",
    "other_neuropathic",
)

#: Diagnosis code -> protocol kind. Chronic low back pain and lumbar radiculopathy
#: follow the back-pain protocol (ODI); neuropathic conditions the DN4 protocol.
DIAGNOSIS_KIND: dict[str, str] = {
    "clbp": "clbp",
    "lumbar_radiculopathy": "clbp",
    **dict.fromkeys(_NEUROPATHIC_DIAGNOSES, "neuropathic"),
}


def _interval_key(item: ProtocolItem) -> float:
    return float("inf") if item.every_days is None else float(item.every_days)


def merge_protocols(protocols: Sequence[Protocol]) -> Protocol:
    """Union of the protocols' instruments; per instrument the shortest interval wins.

    The winning item keeps its own offset, local time and window; ``at_baseline`` is
    true if any protocol gives the instrument at baseline. Ties keep the first
    protocol's item. Instruments keep their order of first appearance; the merged
    code joins the sorted protocol codes with "+".
    """
    if not protocols:
        raise ValueError("no protocol to merge")
    if len(protocols) == 1:
        return protocols[0]
    chosen: dict[str, ProtocolItem] = {}
    baseline: dict[str, bool] = {}
    for protocol in protocols:
        for item in protocol.items:
            code = item.instrument
            current = chosen.get(code)
            if current is None or _interval_key(item) < _interval_key(current):
                chosen[code] = item
            baseline[code] = baseline.get(code, False) or item.at_baseline
    items = tuple(
        ProtocolItem(
            instrument=code,
            every_days=item.every_days,
            start_offset_days=item.start_offset_days,
            local_time=item.local_time,
            window_hours=item.window_hours,
            at_baseline=baseline[code] or item.every_days is None,
        )
        for code, item in chosen.items()
    )
    return Protocol(code="+".join(sorted({p.code for p in protocols})), items=items)


def protocol_for_diagnoses(codes: Sequence[str]) -> Protocol:
    """The protocol for a patient's diagnoses (merged when both kinds are present).

    Unknown or missing codes raise ``ValueError`` rather than silently leaving a
    patient unscheduled.
    """
    if isinstance(codes, str):
        raise TypeError("pass a sequence of diagnosis codes, not a single string")
    unknown = sorted({c for c in codes if c not in DIAGNOSIS_KIND})
    if unknown:
        raise ValueError(f"unknown diagnosis codes: {', '.join(unknown)}")
    if not codes:
        raise ValueError("at least one diagnosis code is needed to choose a protocol")
    kinds = sorted({DIAGNOSIS_KIND[c] for c in codes})
    return merge_protocols([PROTOCOLS[k] for k in kinds])


@dataclass(frozen=True)
class DueSlot:
    """One due questionnaire.

    ``due_at`` and ``closes_at`` are aware UTC datetimes; ``local_date`` is the
    patient's calendar day the slot belongs to (with the instrument, its natural
    idempotency key).
    """

    instrument: str
    due_at: dt.datetime
    closes_at: dt.datetime
    local_date: dt.date


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _instants_for_wall_time(naive: dt.datetime, zone: ZoneInfo) -> list[dt.datetime]:
    """Every UTC instant whose wall-clock time in ``zone`` is ``naive``, sorted:
    none (gap), one, or two (overlap). Found by the UTC round trip of both folds."""
    found: set[dt.datetime] = set()
    for fold in (0, 1):
        instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        # Naive comparison ignores ``fold``, so this compares wall times only.
        if instant.astimezone(zone).replace(tzinfo=None) == naive:
            found.add(instant)
    return sorted(found)


def _resolve(naive: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    instants = _instants_for_wall_time(naive, zone)
    if instants:
        return instants[0]  # the only one, or the first occurrence of an ambiguous time
    # In a gap the two folds read the wall time with the offsets before and after the
    # transition. The pre-transition offset is the smaller one, so it gives the later
    # instant: the wall time pushed forward by the length of the gap.
    return max(naive.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))


def local_to_utc(day: dt.date, local_time: dt.time, tz: str) -> dt.datetime:
    """``day`` at wall-clock ``local_time`` in ``tz`` as an aware UTC datetime,
    resolving gaps and overlaps as the module docstring says."""
    if local_time.tzinfo is not None:
        raise ValueError("local_time must be a wall-clock time without tzinfo")
    return _resolve(dt.datetime.combine(day, local_time), _zone(tz))


def _item_dates(item: ProtocolItem, start: dt.date, lo: dt.date, hi: dt.date) -> Iterator[dt.date]:
    """Nominal local dates of ``item``'s occurrences within [lo, hi]."""
    first = item.first_offset_days()
    if item.every_days is None:
        when = start + dt.timedelta(days=first)
        if lo <= when <= hi:
            yield when
        return
    every = item.every_days
    behind = (lo - start).days - first
    k = max(0, -(-behind // every))  # ceil: first occurrence on or after lo
    offset = first + k * every
    while (when := start + dt.timedelta(days=offset)) <= hi:
        yield when
        offset += every


def due_slots(
    protocol: Protocol,
    *,
    start: dt.date,
    tz: str,
    window_start: dt.datetime,
    window_end: dt.datetime,
) -> list[DueSlot]:
    """All slots of ``protocol`` (plan started on local date ``start``) whose
    ``due_at`` lies in ``[window_start, window_end)``, sorted by due time, then
    instrument."""
    _require_aware(window_start, "window_start")
    _require_aware(window_end, "window_end")
    zone = _zone(tz)
    if window_end <= window_start:
        return []
    # A gap can push a slot's wall time past midnight (by at most a day), so widen
    # the date range and filter on exact instants below.
    lo = window_start.astimezone(zone).date() - dt.timedelta(days=2)
    hi = window_end.astimezone(zone).date() + dt.timedelta(days=1)
    slots: list[DueSlot] = []
    for item in protocol.items:
        for day in _item_dates(item, start, lo, hi):
            due_at = _resolve(dt.datetime.combine(day, item.local_time), zone)
            if window_start <= due_at < window_end:
                closes_at = due_at + dt.timedelta(hours=item.window_hours)
                slots.append(DueSlot(item.instrument, due_at, closes_at, day))
    slots.sort(key=lambda s: (s.due_at, s.instrument))
    return slots


def next_due_preview(
    protocol: Protocol,
    *,
    start: dt.date,
    tz: str,
    now: dt.datetime,
    count: int = 5,
) -> list[DueSlot]:
    """The next ``count`` slots with ``due_at >= now`` (fewer if only once-only
    items remain)."""
    _require_aware(now, "now")
    if count <= 0 or not protocol.items:
        return []
    anchor = max(now, local_to_utc(start, dt.time(0, 0), tz))
    # The count-th slot of any periodic item lies within this horizon, so the count
    # earliest slots overall do too; once-only items lie within the largest offset.
    max_every = max((i.every_days or 0) for i in protocol.items)
    max_offset = max(i.start_offset_days for i in protocol.items)
    horizon = dt.timedelta(days=max_offset + (count + 1) * max_every + 2)
    slots = due_slots(protocol, start=start, tz=tz, window_start=now, window_end=anchor + horizon)
    return slots[:count]


def _in_quiet_hours(local: dt.time, quiet_start: dt.time, quiet_end: dt.time) -> bool:
    if quiet_start == quiet_end:
        return False  # an empty quiet period
    if quiet_start < quiet_end:
        return quiet_start <= local < quiet_end
    return local >= quiet_start or local < quiet_end  # wraps midnight


def apply_quiet_hours(when: dt.datetime, tz: str, quiet_start: dt.time, quiet_end: dt.time) -> dt.datetime:
    """Defer ``when`` to the end of the patient's quiet hours if it falls inside them.

    Quiet hours are local wall-clock times ``[quiet_start, quiet_end)`` and may wrap
    midnight (22:00-07:00); equal bounds mean no quiet hours. A deferred time is
    ``quiet_end`` on the same local day (the next day for the evening part of a
    wrapping period), resolved with the module's DST rules and never earlier than
    ``when``. Returns UTC.
    """
    _require_aware(when, "when")
    if quiet_start.tzinfo is not None or quiet_end.tzinfo is not None:
        raise ValueError("quiet hours are wall-clock times without tzinfo")
    zone = _zone(tz)
    local = when.astimezone(zone)
    wall = local.time()
    if not _in_quiet_hours(wall, quiet_start, quiet_end):
        return when.astimezone(UTC)
    day = local.date()
    if quiet_start > quiet_end and wall >= quiet_start:
        day += dt.timedelta(days=1)
    naive_end = dt.datetime.combine(day, quiet_end)
    # After a fall-back the first occurrence of quiet_end can precede ``when`` (when
    # it sits in the repeated hour); then the second occurrence ends quiet hours.
    later = [i for i in _instants_for_wall_time(naive_end, zone) if i >= when]
    if later:
        return later[0]
    return max(_resolve(naive_end, zone), when.astimezone(UTC))


def consecutive_misses(statuses: Sequence[str]) -> int:
    """Length of the trailing run of ``"missed"`` in chronological slot statuses.

    ``"pending"`` slots (still open) neither extend nor break the run; any other
    status (completed, late, ...) ends it.
    """
    run = 0
    for status in reversed(statuses):
        if status == PENDING:
            continue
        if status != MISSED:
            break
        run += 1
    return run


def is_late(
    recorded_at: dt.datetime,
    received_at: dt.datetime,
    *,
    grace: dt.timedelta = dt.timedelta(hours=24),
) -> bool:
    """True if a diary entry reached the server more than ``grace`` after recording.

    Late entries are kept and marked, not rejected: back-filled diary data is less
    reliable (Stone et al., BMJ 2002;324:1193-1194, on paper-diary back-filling) but
    still data.
    """
    _require_aware(recorded_at, "recorded_at")
    _require_aware(received_at, "received_at")
    return received_at - recorded_at > grace
