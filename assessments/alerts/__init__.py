"""Alerts and the messages that carry them.

This room owns the care team's safety inbox: alerts are raised once per dedupe key in the
writer's transaction (:mod:`.services`), fanned out to the care team after commit and
escalated to managers when nobody acknowledges them (:mod:`.fan_out`), and every reminder
or alert message is a row in the outbox that is claimed, ledgered and sent exactly once
through a channel (:mod:`.outbox`, :mod:`.channels`). It sits below therapies, so that a
therapy session can raise an alert, and above the records (:mod:`assessments.models`).
"""
