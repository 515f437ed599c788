"""Audit trail for the Django admin, the same events the API and the pages record.

Every ModelAdmin that shows patient data mixes in :class:`PatientDataAdminMixin`:

- a change list records one ``list`` event naming the patients whose rows were shown (and
  the search term, which can itself be patient data);
- opening one object (change, history or delete-confirmation page) records ``view``;
- saving records ``create`` or ``update`` with the changed fields, inline rows included,
  and deleting records ``delete`` (one event per object, bulk deletes too).

Each event carries ``detail.via = "admin"`` so the trail tells the admin apart from the API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from patients.audit import Actor, audit_event_record, audit_list_record
from patients.models import Patient


def _admin_actor(request: HttpRequest) -> Actor:
    return dataclasses.replace(Actor.from_request(request), extra={"via": "admin"})


if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object


class PatientDataAdminMixin(_AdminBase):
    """Mix into a ``ModelAdmin`` (before it) whose model holds patient data.

    ``patient_lookup`` is the ORM path from the model to the patient's id.
    """

    patient_lookup: str = "patient_id"

    # -- helpers ----------------------------------------------------------------------
    def _object_type(self) -> str:
        return self.model._meta.model_name or self.model.__name__.lower()

    def _patient_ids(self, pks: Iterable[Any]) -> dict[Any, int | None]:
        rows = self.model._default_manager.filter(pk__in=list(pks)).values_list("pk", self.patient_lookup)
        return dict(rows)

    def _record(self, request: HttpRequest, action: str, obj: Model, detail: dict[str, Any] | None = None) -> None:
        patient_id = self._patient_ids([obj.pk]).get(obj.pk) if obj.pk is not None else None
        if patient_id is None and self.patient_lookup == "patient_id":
            patient_id = getattr(obj, "patient_id", None)
        clinic_id = (
            Patient.objects.filter(pk=patient_id).values_list("clinic_id", flat=True).first()
            if patient_id is not None
            else None
        )
        audit_event_record(
            actor=_admin_actor(request),
            action=action,
            object_type=self._object_type(),
            object_id=str(obj.pk if obj.pk is not None else ""),
            patient_id=patient_id,
            clinic_id=clinic_id,
            detail=detail,
        )

    # -- reads ------------------------------------------------------------------------
    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response: HttpResponse = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            shown = [obj.pk for obj in changelist.result_list]
            patient_ids = sorted({pid for pid in self._patient_ids(shown).values() if pid is not None})
            detail: dict[str, Any] = {"via": "admin"}
            if changelist.query:
                detail["query"] = changelist.query[:200]
            audit_list_record(
                actor=_admin_actor(request), object_type=self._object_type(), patient_ids=patient_ids, detail=detail
            )
        return response

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method in ("GET", "HEAD"):
            self._record(request, "view", obj)
        return obj

    # -- writes -----------------------------------------------------------------------
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        self._record(request, "update" if change else "create", obj, {"fields": sorted(form.changed_data)})

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        parent = form.instance
        rows: list[tuple[str, Any, list[str]]] = [("create", obj, []) for obj in formset.new_objects]
        rows += [("update", obj, sorted(fields)) for obj, fields in formset.changed_objects]
        rows += [("delete", obj, []) for obj in formset.deleted_objects]
        for action, obj, fields in rows:
            detail = {"inline": obj._meta.model_name, "inline_id": obj.pk, "fields": fields}
            self._record(request, f"{action}.{obj._meta.model_name}", parent, detail)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._record(request, "delete", obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self._record(request, "delete", obj)
        super().delete_queryset(request, queryset)
