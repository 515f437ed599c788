"""API plumbing shared by every app: error shape, exception handler, strict input fields.

Every error body names the offending field: DRF's own ``{"field": ["message"]}`` shape,
extended so that Django ``ValidationError`` raised by services (full_clean, domain rules)
and optimistic-lock conflicts come out the same way instead of as a 500.

The ``Strict*Field`` classes and ``AwareDateTimeField`` refuse what DRF's own fields would
quietly coerce: a JSON true as the number 1, the text "5" as 5, a number as text, a
wall-clock time without a UTC offset read in the server's zone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import pagination, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from config.errors import ConflictError, InvalidInput
from config.middleware import DATABASE_ERRORS, RETRY_AFTER_SECONDS


def created_response(body: Any, created: bool) -> Response:
    """The idempotent-create answer of the contract: 201 for a new record, 200 with the
    stored one when the same client_uuid (or key) comes again."""
    return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# Input fields: a JSON true is not the number 1, "5" is not 5, and a time has an offset.


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "A whole number is required (not text or true/false)."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(int(data))


class StrictFloatField(serializers.FloatField):
    default_error_messages = {"invalid": "A number is required (not text or true/false)."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        try:
            float(data)
        except OverflowError:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Text is required (not a number, list or true/false)."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    def to_internal_value(self, data: Any) -> uuid.UUID:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a UTC offset; a wall-clock time without one is refused, not guessed."""

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                raise serializers.ValidationError("Give a time zone offset (ISO 8601, e.g. 2026-03-01T09:00:00+08:00).")
        return super().to_internal_value(value)


def django_error_detail(exc: DjangoValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def as_lists(errors: dict[str, Any]) -> dict[str, Any]:
    """DRF's shape: every leaf is a list of messages; nested dicts stay nested."""
    shaped: dict[str, Any] = {}
    for key, value in errors.items():
        if isinstance(value, dict):
            shaped[key] = as_lists(value)
        elif isinstance(value, list | tuple):
            shaped[key] = [str(v) for v in value]
        else:
            shaped[key] = [str(value)]
    return shaped


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(django_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, InvalidInput):
        return Response({**as_lists(exc.errors), **exc.extra}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        return Response({**as_lists(exc.errors), **exc.extra}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": str(exc)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, DATABASE_ERRORS):
        set_rollback()
        return Response(
            {"detail": "The service is temporarily unavailable; try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return drf_exception_handler(exc, context)


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """``?limit=&offset=`` paging that refuses what it cannot use.

    DRF's own class quietly falls back to the default page for ``?limit=abc`` or
    ``?offset=-5``; here such a request gets a 400 naming the parameter, as the schema says.
    """

    def _non_negative(self, request: Request, name: str, *, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum or str(value) != raw.strip().lstrip("+"):
            raise ValidationError({name: [f"Must be a whole number of at least {minimum}."]})
        return value

    def get_limit(self, request: Request) -> int | None:
        limit = self._non_negative(request, self.limit_query_param, minimum=1)
        if limit is None:
            return self.default_limit
        return min(limit, self.max_limit) if self.max_limit else limit

    def get_offset(self, request: Request) -> int:
        return self._non_negative(request, self.offset_query_param, minimum=0) or 0


_ERROR_BODY = {
    "type": "object",
    "description": 'Error: ``{"detail": "..."}`` or, for invalid input, ``{"<field>": ["<message>", ...]}``.',
    "additionalProperties": True,
}
_ERRORS = {
    "400": "Invalid input: the body names each offending field (query parameters included).",
    "401": "No valid credentials were given.",
    "403": "The credentials do not allow this operation.",
    "404": "Not found, or not visible to this user (the two are not told apart).",
    "409": "Conflict with the stored state (stale version, reused client_uuid).",
    "413": "The request body is larger than the server accepts.",
    "429": "Too many requests; retry after the time in Retry-After.",
    "503": "The database cannot be reached; retry after the time in Retry-After.",
}


class AutoSchema(SpectacularAutoSchema):
    """Name schema components after the nested serializer's owner (``PatientDetailApi.
    InputSerializer`` → ``PatientDetailInput``), so the HackSoft nested-serializer style
    does not produce clashing "Input"/"Output" components."""

    def _get_serializer_name(self, serializer: Any, direction: Any, bypass_extensions: bool = False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        qualname = type(serializer).__qualname__
        if "." in qualname:
            owner, inner = qualname.rsplit(".", 1)
            owner = owner.split(".")[-1].removesuffix("Api")
            name = owner + inner.removesuffix("Serializer")
        return str(name)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        """The documented answers plus the error answers every operation can give: the
        API's exception handler, the access rules and the middleware produce them for
        every view, so the contract lists them where they apply."""
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes = ["503"]
        has_body = self.method in ("POST", "PUT", "PATCH") or (
            self.method == "DELETE" and self.get_request_serializer() is not None
        )
        if has_body or self._has_query_parameters():
            codes.append("400")
        if has_body:
            codes += ["413"]
            request_serializer = force_instance(self.get_request_serializer())  # type: ignore[no-untyped-call]
            if {"client_uuid", "version"} & set(getattr(request_serializer, "fields", {})):
                codes.append("409")
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        for code in sorted(codes):
            responses.setdefault(
                code, {"description": _ERRORS[code], "content": {"application/json": {"schema": _ERROR_BODY}}}
            )
        return responses

    def _has_query_parameters(self) -> bool:
        if self._get_paginator() is not None and self._is_list_view():  # type: ignore[no-untyped-call]
            return True
        return (
            any(getattr(parameter, "location", None) == "query" for parameter in self.get_override_parameters())
            or self._filter_serializer() is not None
        )

    def _filter_serializer(self) -> Any:
        return getattr(self.view, "FilterSerializer", None)
