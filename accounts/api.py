"""Token sign-in for phones and outside clients; one APIView per operation.

``POST /auth/token/`` trades a username and password for a new token (one per device) and
``DELETE`` revokes the token presented; ``/auth/tokens/`` lists the caller's devices and
revokes one. Password guessing is stopped by django-axes through ``authenticate`` (the
lockout answer comes from ``accounts.lockout``); the rate throttle below additionally caps how
fast one address can make the server hash passwords.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, user_logged_in
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from accounts.lockout import lockout_message
from accounts.models import DeviceToken
from accounts.selectors import tokens_of
from accounts.services import token_issue, token_revoke
from config.client_ip import client_ip
from patients.audit import Actor


class AuthRateThrottle(SimpleRateThrottle):
    """The ``auth`` rate, per client address (the one address rule), never per user: the
    caller is not signed in yet, and a stale token header must not stand in the way."""

    scope = "auth"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


class LockedOut(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


LOCKED_OUT_RESPONSE = OpenApiResponse(
    inline_serializer(
        "LockedOut",
        {"detail": serializers.CharField(), "code": serializers.CharField(), "retry_after": serializers.IntegerField()},
    ),
    description="Too many failed sign-ins for this username or address; retry after ``retry_after`` seconds.",
)


class TokenApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
        device = serializers.CharField(
            max_length=120, required=False, allow_blank=True, help_text="A label for this device, e.g. 'My phone'."
        )

    class OutputSerializer(serializers.Serializer[Any]):
        token = serializers.CharField()
        expiry = serializers.DateTimeField()

    def get_parsers(self) -> list[BaseParser]:
        # Form posts as well as JSON, as DRF's token view accepted: outside clients send either.
        return [*super().get_parsers(), FormParser(), MultiPartParser()]

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self) -> list[BaseThrottle]:
        return [AuthRateThrottle()] if self.request.method == "POST" else []

    def perform_authentication(self, request: Request) -> None:
        # Signing in needs no credentials but the ones in the body: an old, expired token
        # still sent by the client must not turn the sign-in into a 401.
        if request.method != "POST":
            super().perform_authentication(request)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Missing fields or wrong credentials."),
            429: LOCKED_OUT_RESPONSE,
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        http_request = request._request
        user = authenticate(
            request=http_request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if user is None:
            if getattr(http_request, "axes_locked_out", False):
                raise LockedOut(lockout_message())
            raise ValidationError({"non_field_errors": [_("Unable to log in with provided credentials.")]})
        token, key = token_issue(
            actor=Actor.from_request(http_request), user=user, device=data.validated_data.get("device", "")
        )
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        return Response(self.OutputSerializer({"token": key, "expiry": token.expiry}).data)

    @extend_schema(
        request=None,
        responses={204: None, 400: OpenApiResponse(description="The request was not made with a token.")},
    )
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, DeviceToken):
            raise ValidationError({"authorization": [_("Send the token to revoke as 'Authorization: Token <key>'.")]})
        token_revoke(actor=Actor.from_request(request), token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceTokenSerializer(serializers.Serializer[DeviceToken]):
    id = serializers.UUIDField(source="public_id")
    device = serializers.CharField()
    ip = serializers.IPAddressField(allow_null=True)
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField()
    current = serializers.SerializerMethodField()

    def get_current(self, obj: DeviceToken) -> bool:
        presented = self.context.get("presented")
        return presented is not None and obj.digest == presented


def _presented_digest(request: Request) -> str | None:
    return request.auth.digest if isinstance(request.auth, DeviceToken) else None


class TokenListApi(APIView):
    """The caller's signed-in devices: tokens not yet expired or revoked."""

    pagination_class = LimitOffsetPagination  # also tells the schema the list is paginated

    @extend_schema(responses=DeviceTokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(tokens_of(request.user), request, view=self) or []
        # The stubs do not model many=True (typeddjango/djangorestframework-stubs#260).
        serializer = DeviceTokenSerializer(page, many=True, context={"presented": _presented_digest(request)})  # type: ignore[arg-type]
        return paginator.get_paginated_response(serializer.data)


class TokenDetailApi(APIView):
    @extend_schema(request=None, responses={204: None, 404: OpenApiResponse(description="No such token of yours.")})
    def delete(self, request: Request, token_id: str) -> Response:
        token = tokens_of(request.user).filter(public_id=token_id).first()
        if token is None:
            raise NotFound(_("No such token."))
        token_revoke(actor=Actor.from_request(request), token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
