"""Alert texts: one English sentence stored for the record, shown in the reader's language.

An alert keeps a message code and its arguments next to the English message. The
console renders the code's template in the active language, so a Chinese screen never
shows the English sentence; an alert whose code is unknown (older rows) shows the
stored English message unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext, gettext_noop

SAFETY_SCORED = "safety_scored"
SAFETY_PRORATED = "safety_prorated"
SAFETY_UNSCORED = "safety_unscored"
SAFETY_REJECTED = "safety_rejected"
MISSED_LOGS = "missed_logs"
WORSENING_PAIN = "worsening_pain"
SEVERE_ADVERSE_EVENT = "severe_adverse_event"
SEVERE_ADVERSE_EVENT_NOTE = "severe_adverse_event_note"

TEMPLATES: dict[str, str] = {
    SAFETY_SCORED: gettext_noop("PHQ-9 item 9 answered %(item9)s (total %(total)s)."),
    SAFETY_PRORATED: gettext_noop("PHQ-9 item 9 answered %(item9)s (total %(total)s, prorated)."),
    SAFETY_UNSCORED: gettext_noop("PHQ-9 item 9 answered %(item9)s (not scored: %(missing)s of 9 items not answered)."),
    SAFETY_REJECTED: gettext_noop("PHQ-9 item 9 answered %(item9)s in a submission that was rejected (not scored)."),
    MISSED_LOGS: gettext_noop("%(misses)s consecutive %(instrument)s diary entries missed since %(since)s."),
    WORSENING_PAIN: gettext_noop(
        "%(days)s-day mean NRS %(current)s (%(current_n)s entries), %(rise)s points above the baseline "
        "%(baseline)s (plan week 0, %(baseline_n)s entries); alert threshold +%(threshold)s points."
    ),
    SEVERE_ADVERSE_EVENT: gettext_noop("Severe adverse event after %(modality)s on %(when)s UTC."),
    SEVERE_ADVERSE_EVENT_NOTE: gettext_noop("Severe adverse event after %(modality)s on %(when)s UTC: %(note)s"),
}


def alert_message_english(code: str, args: Mapping[str, Any]) -> str:
    """The English sentence stored on the alert (audit trail, notifications, API)."""
    return TEMPLATES[code] % dict(args)


def alert_message_display(code: str, args: Mapping[str, Any], fallback: str) -> str:
    """The message in the active language; `fallback` (the stored text) for an unknown code or bad arguments."""
    template = TEMPLATES.get(code)
    if template is None:
        return fallback
    try:
        return gettext(template) % dict(args)
    except (KeyError, TypeError, ValueError):
        return fallback


#: Alert kinds as e-mail, push and inbox titles name them (English, Chinese).
ALERT_KIND_LABELS = {
    "suicidal_ideation": ("PHQ-9 item 9: thoughts of self-harm", "PHQ-9 第 9 题：有自伤念头"),
    "severe_adverse_event": ("Severe adverse event after a session", "治疗后严重不良事件"),
    "missed_logs": ("Three consecutive missed diary entries", "连续三次未记录疼痛日记"),
    "worsening_pain": ("Worsening pain", "疼痛加重"),
}
