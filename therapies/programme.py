"""A plan version's home exercise programme follows the plan into its next version.

Any new plan version (the plan editor, the API, the programme editor) is built from the
components the editor sent; the programme items hang off the exercise component. So that
changing, say, a TENS dose does not silently end the patient's exercise programme, the
items of the version being replaced are copied onto the new version's exercise component:
the one at the same position if it is still an exercise component, else the first one. A
new version without any exercise component ends the programme (on purpose: the therapist
removed exercise from the plan).
"""

from __future__ import annotations

from therapies.models import PlanComponent, ProgrammeItem, RehabPlan

EXERCISE = "exercise"


def programme_component(components: list[PlanComponent], preferred_order: int | None) -> PlanComponent | None:
    """The exercise component of a version that holds (or will hold) its programme."""
    exercise = [c for c in components if c.modality == EXERCISE]
    for component in exercise:
        if component.order == preferred_order:
            return component
    return exercise[0] if exercise else None


def programme_carry_forward(*, plan: RehabPlan, from_version: int) -> int:
    """Copy the programme of ``from_version`` onto ``plan``; returns the items copied."""
    if from_version < 1:
        return 0
    items = list(
        ProgrammeItem.objects.filter(component__plan__patient_id=plan.patient_id, component__plan__version=from_version)
        .select_related("component")
        .order_by("order", "id")
    )
    if not items:
        return 0
    target = programme_component(list(plan.components.all()), items[0].component.order)
    if target is None:
        return 0
    ProgrammeItem.objects.bulk_create(
        ProgrammeItem(
            component=target,
            exercise_id=item.exercise_id,
            order=item.order,
            sets=item.sets,
            reps=item.reps,
            hold_seconds=item.hold_seconds,
            rest_seconds=item.rest_seconds,
            sessions_per_week=item.sessions_per_week,
            progression_note=item.progression_note,
        )
        for item in items
    )
    return len(items)
