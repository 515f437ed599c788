"""REST API for protocols, due items, push subscriptions, notifications and alerts.

One APIView per operation; every patient fetch goes through the access helper
(``patients.api.get_patient`` → ``patient_get_for``), which also writes the audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.alerts.outbox import (
    notification_mark_read,
    push_subscription_delete,
    push_subscription_save,
)
from assessments.alerts.services import ACK_TEXT_MAX, alert_acknowledge
from assessments.instruments import INSTRUMENTS
from assessments.models import (
    Alert,
    AlertAction,
    Channel,
    DueItem,
    Notification,
    PatientProtocol,
    PushSubscription,
)
from assessments.reminders.due import open_or_today
from assessments.reminders.protocols import (
    item_to_json,
    protocol_apply,
    protocol_get,
    protocol_preview,
    protocol_template,
)
from config.api import LimitOffsetPagination, created_response
from config.errors import InvalidInput
from patients.access import Action, own_patient_id
from patients.api import get_patient
from patients.audit import Actor, audit_list_record
from patients.models import Patient


def _reject_unknown(request: Request, serializer: serializers.Serializer[Any]) -> None:
    if isinstance(request.data, dict):
        unknown = set(request.data) - set(serializer.fields)
        if unknown:
            raise serializers.ValidationError({key: ["Unknown or read-only field."] for key in sorted(unknown)})


def _local(when: dt.datetime, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).isoformat()


# --- protocol ------------------------------------------------------------------------------------


class SlotSerializer(serializers.Serializer[dict[str, Any]]):
    instrument = serializers.CharField()
    due_at = serializers.DateTimeField(help_text="UTC")
    due_local = serializers.CharField(help_text="The same instant with the patient's UTC offset.")
    closes_at = serializers.DateTimeField()
    local_date = serializers.DateField()


class ProtocolItemSerializer(serializers.Serializer[dict[str, Any]]):
    instrument = serializers.CharField()
    every_days = serializers.IntegerField(allow_null=True, help_text="null: once")
    start_offset_days = serializers.IntegerField()
    local_time = serializers.CharField(help_text="HH:MM, patient's wall-clock time")
    window_hours = serializers.IntegerField()
    at_baseline = serializers.BooleanField()


class ProtocolOutputSerializer(serializers.Serializer[dict[str, Any]]):
    patient = serializers.IntegerField()
    applied = serializers.BooleanField(help_text="false: the template for the patient's diagnoses, not applied yet")
    protocol_code = serializers.CharField(allow_null=True)
    items = ProtocolItemSerializer(many=True)
    start_date = serializers.DateField(allow_null=True)
    quiet_start = serializers.TimeField(allow_null=True, format="%H:%M")
    quiet_end = serializers.TimeField(allow_null=True, format="%H:%M")
    channels = serializers.ListField(child=serializers.CharField())
    sms_number = serializers.CharField(allow_blank=True)
    is_active = serializers.BooleanField()
    time_zone = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)
    preview = SlotSerializer(many=True)


def _protocol_data(patient: Patient, stored: PatientProtocol | None, count: int) -> dict[str, Any]:
    now = timezone.now()
    preview = [
        {
            "instrument": s.instrument,
            "due_at": s.due_at,
            "due_local": _local(s.due_at, patient.time_zone),
            "closes_at": s.closes_at,
            "local_date": s.local_date,
        }
        for s in protocol_preview(patient, now, count)
    ]
    if stored is not None:
        return {
            "patient": patient.pk,
            "applied": True,
            "protocol_code": stored.protocol_code,
            "items": stored.items,
            "start_date": stored.start_date,
            "quiet_start": stored.quiet_start,
            "quiet_end": stored.quiet_end,
            "channels": stored.channels,
            "sms_number": stored.sms_number,
            "is_active": stored.is_active,
            "time_zone": patient.time_zone,
            "updated_at": stored.updated_at,
            "preview": preview,
        }
    try:
        template = protocol_template(patient)
        code, items = template.code, [item_to_json(i) for i in template.items]
    except InvalidInput:
        code, items = None, []
    return {
        "patient": patient.pk,
        "applied": False,
        "protocol_code": code,
        "items": items,
        "start_date": None,
        "quiet_start": None,
        "quiet_end": None,
        "channels": [],
        "sms_number": "",
        "is_active": False,
        "time_zone": patient.time_zone,
        "updated_at": None,
        "preview": preview,
    }


PREVIEW_COUNT = 5


class PreviewParams(serializers.Serializer[Any]):
    preview = serializers.IntegerField(required=False, min_value=0, max_value=50, default=PREVIEW_COUNT)


PATIENT_PREFERENCES = frozenset({"channels", "quiet_start", "quiet_end", "sms_number"})


class ProtocolApi(APIView):
    """The patient's questionnaire protocol: view (anyone who may see the patient), edit
    (therapist on the care team; the patient themself may change only their reminder
    channels, quiet hours and SMS number). PUT re-plans the next 48 h at once."""

    class InputSerializer(serializers.Serializer[Any]):
        start_date = serializers.DateField(
            required=False, help_text="Default: the stored one, else today (patient's date)"
        )
        protocol_code = serializers.CharField(required=False, max_length=32)
        items = serializers.ListField(child=serializers.JSONField(), required=False, max_length=20)
        quiet_start = serializers.TimeField(required=False, allow_null=True, help_text="HH:MM, omitted: unchanged")
        quiet_end = serializers.TimeField(required=False, allow_null=True)
        channels = serializers.ListField(
            child=serializers.ChoiceField(choices=Channel.choices), required=False, max_length=4
        )
        sms_number = serializers.CharField(required=False, allow_blank=True, max_length=32)
        is_active = serializers.BooleanField(required=False, default=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("preview", int, description="How many next due items to preview (0-50, default 5)")
        ],
        responses=ProtocolOutputSerializer,
    )
    def get(self, request: Request, patient_id: int) -> Response:
        params = PreviewParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        patient = get_patient(request, patient_id, object_type="protocol")
        return Response(
            ProtocolOutputSerializer(
                _protocol_data(patient, protocol_get(patient), params.validated_data["preview"])
            ).data
        )

    @extend_schema(request=InputSerializer, responses=ProtocolOutputSerializer)
    def put(self, request: Request, patient_id: int) -> Response:
        # The patient may set how and when they are reminded; the schedule is the clinician's.
        is_self = own_patient_id(request.user) == patient_id
        patient = get_patient(
            request, patient_id, Action.REPORT if is_self else Action.CLINICAL, log_access=False, object_type="protocol"
        )
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _reject_unknown(request, serializer)
        data = serializer.validated_data
        stored = protocol_get(patient)
        if is_self:
            clinical = sorted(set(request.data) - PATIENT_PREFERENCES - {"is_active"})
            if "is_active" in request.data and data["is_active"] != (stored.is_active if stored else True):
                clinical.append("is_active")
            if clinical:
                raise serializers.ValidationError({key: ["Only your clinician can change this."] for key in clinical})
        today = timezone.now().astimezone(ZoneInfo(patient.time_zone)).date()
        protocol = protocol_apply(
            actor=Actor.from_request(request),
            patient=patient,
            start_date=data.get("start_date") or (stored.start_date if stored else today),
            protocol_code=data.get("protocol_code"),
            items=data.get("items"),
            quiet_start=data.get("quiet_start", stored.quiet_start if stored else None),
            quiet_end=data.get("quiet_end", stored.quiet_end if stored else None),
            channels=data.get("channels"),
            sms_number=data.get("sms_number"),
            is_active=data["is_active"],
        )
        return Response(ProtocolOutputSerializer(_protocol_data(patient, protocol, PREVIEW_COUNT)).data)


# --- due today -----------------------------------------------------------------------------------


class DueItemSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    instrument = serializers.CharField()
    name = serializers.DictField(child=serializers.CharField(), help_text="{en, zh-hans}")
    due_at = serializers.DateTimeField()
    due_local = serializers.CharField()
    closes_at = serializers.DateTimeField()
    local_date = serializers.DateField()
    status = serializers.CharField()
    is_open = serializers.BooleanField(help_text="Can be answered now")


class PatientDueApi(APIView):
    """Today's due questionnaires (patient's local day) and any still open, for the app."""

    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        date = serializers.DateField()
        time_zone = serializers.CharField()
        items = DueItemSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, object_type="due_items")
        now = timezone.now()
        tz = patient.time_zone
        today = now.astimezone(ZoneInfo(tz)).date()
        items = []
        for item in DueItem.objects.filter(open_or_today(patient.pk, today=today, now=now)).order_by("due_at", "id"):
            instrument = INSTRUMENTS.get(item.instrument)
            items.append(
                {
                    "id": item.pk,
                    "instrument": item.instrument,
                    "name": instrument.name.as_dict()
                    if instrument
                    else {"en": item.instrument, "zh-hans": item.instrument},
                    "due_at": item.due_at,
                    "due_local": _local(item.due_at, tz),
                    "closes_at": item.closes_at,
                    "local_date": item.local_date,
                    "status": item.status,
                    "is_open": item.status == "pending" and item.due_at <= now < item.closes_at,
                }
            )
        return Response(self.OutputSerializer({"date": today, "time_zone": tz, "items": items}).data)


# --- web push ---------------------------------------------------------------------------------------

_B64URL = r"^[A-Za-z0-9_\-=]+$"


class PushSubscriptionApi(APIView):
    """The logged-in user's Web Push subscription (PushSubscription.toJSON() of the browser)."""

    class KeysSerializer(serializers.Serializer[Any]):
        p256dh = serializers.RegexField(_B64URL, max_length=200)
        auth = serializers.RegexField(_B64URL, max_length=100)

    class InputSerializer(serializers.Serializer[Any]):
        endpoint = serializers.URLField(max_length=1000)
        keys = serializers.DictField(required=True)
        expirationTime = serializers.IntegerField(required=False, allow_null=True)

        def validate_endpoint(self, value: str) -> str:
            if not value.startswith("https://"):
                raise serializers.ValidationError("Push endpoints are https URLs.")
            return value

        def validate_keys(self, value: dict[str, Any]) -> dict[str, Any]:
            keys = PushSubscriptionApi.KeysSerializer(data=value)
            keys.is_valid(raise_exception=True)
            return dict(keys.validated_data)

    class DeleteSerializer(serializers.Serializer[Any]):
        endpoint = serializers.URLField(max_length=1000)

    class OutputSerializer(serializers.Serializer[PushSubscription]):
        id = serializers.IntegerField()
        endpoint = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer, 200: OutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription, created = push_subscription_save(
            user=request.user, endpoint=data["endpoint"], p256dh=data["keys"]["p256dh"], auth=data["keys"]["auth"]
        )
        return created_response(self.OutputSerializer(subscription).data, created)

    @extend_schema(request=DeleteSerializer, responses={204: None})
    def delete(self, request: Request) -> Response:
        serializer = self.DeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        push_subscription_delete(user=request.user, endpoint=serializer.validated_data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class VapidKeyApi(APIView):
    """The application server key for ``pushManager.subscribe``; enabled=false when unset."""

    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        public_key = serializers.CharField(allow_blank=True)
        enabled = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        key = settings.VAPID_PUBLIC_KEY
        return Response(
            self.OutputSerializer({"public_key": key, "enabled": bool(key and settings.VAPID_PRIVATE_KEY)}).data
        )


# --- notifications -------------------------------------------------------------------------------------


class NotificationSerializer(serializers.Serializer[Notification]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    patient = serializers.IntegerField(source="patient_id", allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(APIView):
    """The logged-in user's inbox, newest first; ``?unread=true`` for unread only."""

    pagination_class = LimitOffsetPagination

    class FilterSerializer(serializers.Serializer[Any]):
        unread = serializers.BooleanField(required=False)

    @extend_schema(parameters=[OpenApiParameter("unread", bool)], responses=NotificationSerializer(many=True))
    def get(self, request: Request) -> Response:
        # A plain dict, not the QueryDict: DRF reads an absent boolean in form data as False.
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        qs = Notification.objects.filter(user_id=int(request.user.pk or 0)).order_by("-created_at", "-id")
        if filters.validated_data.get("unread") is True:
            qs = qs.filter(read_at__isnull=True)
        elif filters.validated_data.get("unread") is False:
            qs = qs.filter(read_at__isnull=False)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        shown = sorted({n.patient_id for n in page if n.patient_id is not None})
        if shown:
            audit_list_record(actor=Actor.from_request(request), object_type="notification", patient_ids=shown)
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)  # type: ignore[arg-type]  # stubs do not model many=True (typeddjango/djangorestframework-stubs#260)


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, notification_id: int) -> Response:
        notification = notification_mark_read(user=request.user, notification_id=notification_id)
        if notification is None:
            raise NotFound("No such notification.")
        return Response(NotificationSerializer(notification).data)


# --- alerts ---------------------------------------------------------------------------------------------


class AlertSerializer(serializers.Serializer[Alert]):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    kind = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    is_safety = serializers.BooleanField()
    is_open = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    notified_at = serializers.DateTimeField(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.IntegerField(source="acknowledged_by_id", allow_null=True)
    acknowledgement_action = serializers.ChoiceField(
        choices=["", *AlertAction.values], help_text="What was done; empty while open (or for an older record)."
    )
    acknowledgement_reason = serializers.CharField(allow_blank=True, help_text="Why no action was needed.")
    acknowledgement_note = serializers.CharField(allow_blank=True)


class PatientAlertListApi(APIView):
    """The patient's alerts, newest first; ``?open=true`` for unacknowledged only."""

    pagination_class = LimitOffsetPagination

    class FilterSerializer(serializers.Serializer[Any]):
        open = serializers.BooleanField(required=False)

    @extend_schema(parameters=[OpenApiParameter("open", bool)], responses=AlertSerializer(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        # A plain dict, not the QueryDict: DRF reads an absent boolean in form data as False.
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        patient = get_patient(request, patient_id, object_type="alert")
        qs = Alert.objects.filter(patient_id=patient.pk).order_by("-created_at", "-id")
        if "open" in filters.validated_data:
            qs = qs.filter(acknowledged_at__isnull=filters.validated_data["open"])
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(AlertSerializer(page, many=True).data)  # type: ignore[arg-type]  # stubs do not model many=True (typeddjango/djangorestframework-stubs#260)


class AlertAcknowledgeApi(APIView):
    """A therapist on the patient's care team closes an alert (the first ack is kept).

    A safety alert (``is_safety``) needs ``action``; ``no_action_needed`` needs ``reason``.
    """

    class InputSerializer(serializers.Serializer[Any]):
        action = serializers.ChoiceField(
            choices=AlertAction.choices,
            required=False,
            allow_blank=True,
            default="",
            help_text="What was done. Required for safety alerts (suicidal_ideation, severe_adverse_event).",
        )
        reason = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=ACK_TEXT_MAX,
            default="",
            help_text="Required with action no_action_needed.",
        )
        note = serializers.CharField(required=False, allow_blank=True, max_length=ACK_TEXT_MAX, default="")

    @extend_schema(request=InputSerializer, responses=AlertSerializer)
    def post(self, request: Request, alert_id: int) -> Response:
        patient_id = Alert.objects.filter(pk=alert_id).values_list("patient_id", flat=True).first()
        if patient_id is None:
            raise NotFound("No such alert.")
        try:
            get_patient(request, patient_id, Action.CLINICAL, log_access=False, object_type="alert")
        except NotFound as exc:
            raise NotFound("No such alert.") from exc
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        alert = alert_acknowledge(
            actor=Actor.from_request(request),
            alert_id=alert_id,
            action=data["action"],
            reason=data["reason"],
            note=data["note"],
        )
        return Response(AlertSerializer(alert).data)
