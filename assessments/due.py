"""Due items meet assessments: completing a due questionnaire by answering it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db.models import Q

from assessments.models import Assessment, DueItem, DueStatus


def due_item_complete_for(assessment: Assessment) -> int:
    """Mark the pending due item(s) this entry answers; returns how many.

    An item is answered by an entry inside its window, or by one made earlier on the same
    local day (in the patient's time zone), so a patient who answers ahead of time gets no
    reminder for it.
    """
    local_date = assessment.recorded_at.astimezone(ZoneInfo(assessment.patient.time_zone)).date()
    return (
        DueItem.objects.filter(
            patient_id=assessment.patient_id,
            instrument=assessment.instrument,
            status=DueStatus.PENDING,
            closes_at__gt=assessment.recorded_at,
        )
        .filter(Q(due_at__lte=assessment.recorded_at) | Q(local_date=local_date))
        .update(status=DueStatus.COMPLETED, completed_by=assessment)
    )
