"""A test-only in-app channel that blocks mid-send (selected in a worker subprocess with
REMINDER_TEST_CHANNELS=in_app=tests.integration.slow_channel.SlowInAppChannel).

It writes the Notification row (inside the sender's still-open transaction), drops a
marker file so the test knows the send is under way, then sleeps: the test SIGKILLs the
worker at that point, which must roll the row back and leave the message to be redelivered.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from assessments.alerts.channels import InAppChannel, Message


class SlowInAppChannel(InAppChannel):
    def send(self, reminder: Any, message: Message) -> str:
        ref = super().send(reminder, message)
        marker = os.environ.get("REMINDER_TEST_SLOW_MARKER")
        if marker:
            Path(marker).write_text(f"{reminder.pk} {ref}", encoding="utf-8")
        time.sleep(float(os.environ.get("REMINDER_TEST_SLOW_SECONDS", "60")))
        return ref
