"""Auth and member-management endpoints. Thin: validate, call one service, serialize."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout as session_logout
from django.db.models import Count
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import presence, selectors, services
from accounts.api import serializers as s
from accounts.api.permissions import (
    IsWorkspaceAdmin,
    IsWorkspaceAdminOrReadOnly,
    IsWorkspaceMember,
)
from accounts.calendar import workspace_zone
from accounts.models import ApiKey, AuditEntry, DateOverride, HolidayFeed, User
from flame.ratelimits import client_ip, enforce


def _login_payload(user) -> dict:
    return {**services.tokens_for(user), "user": s.UserSerializer(user).data}


class PublicAuthView(APIView):
    """Endpoints reachable without a token; a stale Authorization header must not 401 them."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def limit(self, group: str, rate: str, *keys: str) -> None:
        for key in keys:
            enforce(self.request, group=group, key=key, rate=rate)


SIGNUP_SENT = (
    "Check your e-mail: open the link we sent to confirm the address and finish creating the "
    "workspace."
)


class RegisterView(PublicAuthView):
    """Creates the workspace pending its admin's e-mail confirmation (same answer for any
    address, so registering reveals nothing about existing accounts)."""

    @extend_schema(request=s.RegisterSerializer, responses={202: s.DetailSerializer})
    def post(self, request):
        self.limit("register", settings.RATELIMIT_REGISTER, client_ip(request))
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.workspace_register(**data.validated_data)
        return Response({"detail": SIGNUP_SENT}, status=status.HTTP_202_ACCEPTED)


class SignupConfirmView(PublicAuthView):
    """The e-mailed confirmation: the admin's account becomes usable and is signed in."""

    @extend_schema(request=s.SignupConfirmSerializer, responses={200: s.LoginResponseSerializer})
    def post(self, request):
        self.limit("register-confirm", settings.RATELIMIT_REGISTER, client_ip(request))
        data = s.SignupConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.signup_confirm(**data.validated_data)
        return Response(_login_payload(user))


class LoginView(PublicAuthView):
    @extend_schema(request=s.LoginSerializer, responses={200: s.LoginResponseSerializer})
    def post(self, request):
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_sign_in(request=request, **data.validated_data)
        return Response(_login_payload(user))


class RefreshView(PublicAuthView):
    @extend_schema(request=s.RefreshSerializer, responses={200: s.TokenPairSerializer})
    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.token_refresh(refresh=data.validated_data["refresh"]))


@extend_schema(exclude=True)
class RefreshAliasView(RefreshView):
    """``/api/auth/refresh-token``: the same call under the seed's other name."""


class LogoutView(PublicAuthView):
    """Revokes a refresh token (401 unless we issued it) and ends the session, if any.

    A signed-in browser carries its session cookie on any cross-site form POST, so the session
    authenticator is listed here only for its CSRF check: with a session, no valid CSRF token
    means 403 and nothing changes. A bearer header is ignored, as on the other public views.
    """

    authentication_classes = [SessionAuthentication]

    @extend_schema(request=s.RefreshSerializer, responses={200: s.DetailSerializer})
    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.token_revoke(refresh=data.validated_data["refresh"])
        session_logout(request._request)
        return Response({"detail": "Logged out."})


class ForgotPasswordView(PublicAuthView):
    @extend_schema(request=s.ForgotPasswordSerializer, responses={200: s.DetailSerializer})
    def post(self, request):
        self.limit("password-reset-ip", settings.RATELIMIT_PASSWORD_RESET, client_ip(request))
        data = s.ForgotPasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"].lower()
        self.limit("password-reset-email", settings.RATELIMIT_PASSWORD_RESET, email)
        services.password_reset_request(email=email)
        # Same answer whether or not the address exists: no account enumeration.
        return Response({"detail": "If the address has an account, a reset link is on its way."})


class ResetPasswordView(PublicAuthView):
    @extend_schema(request=s.ResetPasswordSerializer, responses={200: s.DetailSerializer})
    def post(self, request):
        self.limit("password-reset-confirm", settings.RATELIMIT_PASSWORD_RESET, client_ip(request))
        data = s.ResetPasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response({"detail": "Password changed. Sign in with the new password."})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.UserSerializer})
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)


class ProfileView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.UserSerializer})
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)

    @extend_schema(request=s.ProfileSerializer, responses={200: s.UserSerializer})
    def put(self, request):
        data = s.ProfileSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, data=data.validated_data)
        return Response(s.UserSerializer(user).data)

    patch = put


class AvailabilityView(APIView):
    """The member's status for colleagues and auto-assignment: what they chose, and what it is
    now (``effective``: offline once they have been away a few minutes)."""

    permission_classes = [IsWorkspaceMember]

    def _answer(self, user) -> Response:
        effective = presence.effective_availability(user, timezone.now())
        return Response({"availability": user.availability, "effective": effective})

    @extend_schema(responses={200: s.AvailabilityAnswerSerializer})
    def get(self, request):
        return self._answer(request.user)

    @extend_schema(
        request=s.AvailabilitySerializer, responses={200: s.AvailabilityAnswerSerializer}
    )
    def put(self, request):
        data = s.AvailabilitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_set_availability(
            user=request.user, availability=data.validated_data["availability"]
        )
        return self._answer(user)

    patch = put


class ChangePasswordView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.ChangePasswordSerializer, responses={200: s.TokenPairSerializer})
    def post(self, request):
        data = s.ChangePasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_change_password(user=request.user, **data.validated_data)
        # Every earlier token is revoked; hand the caller a fresh pair so it stays signed in.
        return Response(services.tokens_for(user))


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Workspace members, managed by the workspace's admins."""

    permission_classes = [IsWorkspaceAdmin]
    serializer_class = s.MemberSerializer
    queryset = User.objects.none()  # for schema generation; requests use get_queryset()
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    filterset_fields = ("role", "is_active")

    def get_queryset(self):
        return selectors.user_list_for(actor=self.request.user)

    def get_object(self):
        return selectors.user_get_for(actor=self.request.user, user_id=self.kwargs["pk"])

    @extend_schema(request=s.MemberCreateSerializer, responses={201: s.MemberSerializer})
    def create(self, request, *args, **kwargs):
        data = s.MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_invite(by=request.user, **data.validated_data)
        return Response(s.MemberSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MemberUpdateSerializer, responses={200: s.MemberSerializer})
    def update(self, request, *args, **kwargs):
        member = self.get_object()
        data = s.MemberUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        user = services.user_update_membership(by=request.user, user=member, **data.validated_data)
        return Response(s.MemberSerializer(user).data)

    def destroy(self, request, *args, **kwargs):
        """Deactivate: history (messages, assignments) keeps pointing at the person."""
        services.user_deactivate(by=request.user, user=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The workspace's API keys (admins; keys never reach this, accounts.api_keys)."""

    permission_classes = [IsWorkspaceAdmin]
    serializer_class = s.ApiKeySerializer
    queryset = ApiKey.objects.none()  # for schema generation; requests use get_queryset()
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def get_queryset(self):
        return selectors.api_key_list_for(actor=self.request.user)

    def get_object(self):
        return selectors.api_key_get_for(actor=self.request.user, key_id=self.kwargs["pk"])

    @extend_schema(request=s.ApiKeyCreateSerializer, responses={201: s.ApiKeyCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = s.ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = services.api_key_create(by=request.user, **data.validated_data)
        key.secret = secret  # type: ignore[attr-defined]  # shown this once, never stored
        return Response(s.ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        """Revoke: the key stops working at once; it stays listed as revoked."""
        services.api_key_revoke(by=request.user, key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[s.AuditFilterSerializer], responses={200: s.AuditEntrySerializer})
class AuditLogView(ListAPIView):
    """The workspace's audit log, newest first, for admins (``accounts.audit``)."""

    permission_classes = [IsWorkspaceAdmin]
    serializer_class = s.AuditEntrySerializer
    queryset = AuditEntry.objects.none()  # for schema generation; requests use get_queryset()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        filters = s.AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        entries = selectors.audit_entries_for(actor=self.request.user)
        return selectors.audit_entries_filtered(entries, **filters.validated_data)


class DateOverrideViewSet(
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Dates that do not follow the weekly schedules (holidays, special hours): members read,
    admins write (``accounts.calendar``; docs/schedules.md)."""

    permission_classes = [IsWorkspaceAdminOrReadOnly]
    serializer_class = s.DateOverrideSerializer
    queryset = DateOverride.objects.none()  # for schema generation; requests use selectors
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    pagination_class = None  # a bounded window (``from``/``to``), listed whole

    def get_object(self):
        return selectors.date_override_get_for(
            actor=self.request.user, override_id=self.kwargs["pk"]
        )

    @extend_schema(
        parameters=[s.HolidayWindowSerializer], responses={200: s.DateOverrideSerializer(many=True)}
    )
    def list(self, request, *args, **kwargs):
        """The window's dates in order: by default from today (the workspace's) for a year."""
        zone = workspace_zone(request.user.workspace.timezone)
        window = s.HolidayWindowSerializer(data=request.query_params, context={"zone": zone})
        window.is_valid(raise_exception=True)
        first, last = window.day_range(window.validated_data)
        rows = selectors.date_override_list_for(actor=request.user, first=first, last=last)
        return Response(s.DateOverrideSerializer(rows, many=True).data)

    @extend_schema(request=s.DateOverrideWriteSerializer, responses={201: s.DateOverrideSerializer})
    def create(self, request, *args, **kwargs):
        data = s.DateOverrideWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        override = services.date_override_create(by=request.user, **data.validated_data)
        return Response(s.DateOverrideSerializer(override).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DateOverrideWriteSerializer, responses={200: s.DateOverrideSerializer})
    def update(self, request, *args, **kwargs):
        override = self.get_object()
        partial = kwargs.get("partial", False)
        data = s.DateOverrideWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        override = services.date_override_update(
            by=request.user, override=override, **data.validated_data
        )
        return Response(s.DateOverrideSerializer(override).data)

    def destroy(self, request, *args, **kwargs):
        """The date follows the weekly schedules again."""
        services.date_override_delete(by=request.user, override=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class HolidayFeedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Public-holiday calendars (iCal addresses) whose whole-day events close the workspace;
    refreshed daily and on ``POST …/refresh`` (admins)."""

    permission_classes = [IsWorkspaceAdmin]
    serializer_class = s.HolidayFeedSerializer
    queryset = HolidayFeed.objects.none()  # for schema generation; requests use selectors
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    pagination_class = None  # a handful per workspace

    def get_queryset(self):
        feeds = selectors.holiday_feed_list_for(actor=self.request.user)
        return feeds.annotate(dates_count=Count("dates"))

    def get_object(self):
        return selectors.holiday_feed_get_for(actor=self.request.user, feed_id=self.kwargs["pk"])

    def _answer(self, feed: HolidayFeed, code: int = status.HTTP_200_OK) -> Response:
        feed.dates_count = feed.dates.count()  # type: ignore[attr-defined]
        return Response(s.HolidayFeedSerializer(feed).data, status=code)

    @extend_schema(request=s.HolidayFeedWriteSerializer, responses={201: s.HolidayFeedSerializer})
    def create(self, request, *args, **kwargs):
        data = s.HolidayFeedWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feed = services.holiday_feed_create(by=request.user, **data.validated_data)
        return self._answer(feed, status.HTTP_201_CREATED)

    @extend_schema(request=s.HolidayFeedWriteSerializer, responses={200: s.HolidayFeedSerializer})
    def update(self, request, *args, **kwargs):
        feed = self.get_object()
        partial = kwargs.get("partial", False)
        data = s.HolidayFeedWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        feed = services.holiday_feed_update(by=request.user, feed=feed, **data.validated_data)
        return self._answer(feed)

    def destroy(self, request, *args, **kwargs):
        """Delete the feed and the dates it brought (dates set by hand stay)."""
        services.holiday_feed_delete(by=request.user, feed=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: s.HolidayFeedRefreshSerializer})
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Fetch the feed now. A failure (unreachable, not a calendar, too big) is stored on
        the feed and answered in ``error``, with no date changed."""
        feed = self.get_object()
        outcome = services.holiday_feed_refresh(feed=feed, by=request.user)
        feed.dates_count = feed.dates.count()  # type: ignore[attr-defined]
        body = {
            "feed": s.HolidayFeedSerializer(feed).data,
            "added": list(outcome.added),
            "removed": list(outcome.removed),
            "error": outcome.error,
        }
        return Response(body)
