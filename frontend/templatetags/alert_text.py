"""``{{ alert|alert_message }}``: an alert's message in the reader's language."""

from __future__ import annotations

from django import template

from assessments.alerts.text import alert_message_display
from assessments.models import Alert

register = template.Library()


@register.filter
def alert_message(alert: Alert) -> str:
    """The message in the active language (the stored English text for alerts without a template)."""
    return alert_message_display(alert.message_code, alert.message_args, alert.message)
