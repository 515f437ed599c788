"""API plumbing shared by every app: error shape and the exception handler.

Every error body names the offending field: DRF's own ``{"field": ["message"]}`` shape,
extended so that Django ``ValidationError`` raised by services (full_clean, domain rules)
and optimistic-lock conflicts come out the same way instead of as a 500.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ConflictError, InvalidInput


def created_response(body: Any, created: bool) -> Response:
    """The idempotent-create answer of the contract: 201 for a new record, 200 with the
    stored one when the same client_uuid (or key) comes again."""
    return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource was changed by someone else."
    default_code = "conflict"


def django_error_detail(exc: DjangoValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _as_lists(errors: dict[str, Any]) -> dict[str, Any]:
    """DRF's shape: every leaf is a list of messages; nested dicts stay nested."""
    shaped: dict[str, Any] = {}
    for key, value in errors.items():
        if isinstance(value, dict):
            shaped[key] = _as_lists(value)
        elif isinstance(value, list | tuple):
            shaped[key] = [str(v) for v in value]
        else:
            shaped[key] = [str(value)]
    return shaped


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(django_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, InvalidInput):
        return Response({**_as_lists(exc.errors), **exc.extra}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        return Response({**_as_lists(exc.errors), **exc.extra}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)


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
