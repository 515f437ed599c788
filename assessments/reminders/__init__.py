"""Reminders: what is due when, for whom.

This room owns measurement protocols and their application to a patient
(:mod:`.protocols`), due items and their completion, closing and missed-log detection
(:mod:`.due`), the pure DST-aware due-time maths (:mod:`.schedules`), and the protocol,
due-item, push and notification API. Messages themselves go out through the outbox in
:mod:`assessments.alerts`.
"""
