"""Session pages: sign in and out, password reset from the e-mailed link, interface language.

The same services as the API do the work; these views only turn forms into calls and errors
into messages. Sign-in shares the API's rate-limit groups, so switching between the page and the
API does not buy an attacker more attempts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from flame.exceptions import ApplicationError
from flame.ratelimits import CountersUnavailable, RateLimited, client_ip, enforce

LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600

# The services' refusals in the page's language (services speak the API's English).
SIGNUP_ERRORS = {
    "invalid_token": gettext_lazy("This confirmation link is invalid or has expired."),
    "email_taken": gettext_lazy(
        "This e-mail address already has an account. Sign in with it instead."
    ),
}


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else fallback


def _first_error(error: ApplicationError) -> str:
    for problems in (error.details or {}).values():
        if problems:
            return str(problems[0])
    return str(error.message)


@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    return redirect("inbox" if request.user.is_authenticated else "login")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_safe_next(request, reverse("inbox")))
    context = {"next": _safe_next(request, ""), "email": ""}
    if request.method == "GET":
        return render(request, "accounts/login.html", context)
    email = request.POST.get("email", "").strip().lower()
    context["email"] = email
    try:
        user = services.user_sign_in(
            request=request, email=email, password=request.POST.get("password", "")
        )
    except CountersUnavailable:
        context["error"] = _("Signing in is briefly unavailable. Try again in a moment.")
        response = render(request, "accounts/login.html", context, status=503)
        response["Retry-After"] = str(CountersUnavailable.RETRY_AFTER)
        return response
    except RateLimited as exc:
        context["error"] = _("Too many attempts. Try again in %(seconds)d seconds.") % {
            "seconds": exc.retry_after
        }
        response = render(request, "accounts/login.html", context, status=exc.status_code)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except ApplicationError:
        context["error"] = _("The e-mail or the password is not right.")
        return render(request, "accounts/login.html", context, status=400)
    login(request, user)
    return redirect(_safe_next(request, reverse("inbox")))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("login")


def _limit_reset(request: HttpRequest, group: str, key: str) -> None:
    enforce(request, group=group, key=key, rate=settings.RATELIMIT_PASSWORD_RESET)


@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "accounts/forgot_password.html")
    email = request.POST.get("email", "").strip().lower()
    try:
        _limit_reset(request, "password-reset-ip", client_ip(request))
        _limit_reset(request, "password-reset-email", email)
    except RateLimited as exc:
        context = {"error": _("Too many requests. Try again later.")}
        response = render(request, "accounts/forgot_password.html", context, status=exc.status_code)
        response["Retry-After"] = str(exc.retry_after)
        return response
    services.password_reset_request(email=email)
    # The same answer whether or not the address has an account.
    return render(request, "accounts/forgot_password.html", {"sent": True})


@require_http_methods(["GET", "POST"])
def reset_password(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "accounts/reset_password.html", {"token": token})
    password = request.POST.get("password", "")
    if password != request.POST.get("password_confirm", ""):
        context = {"token": token, "error": _("The two passwords are not the same.")}
        return render(request, "accounts/reset_password.html", context, status=400)
    try:
        _limit_reset(request, "password-reset-confirm", client_ip(request))
        services.password_reset_confirm(token=token, password=password)
    except RateLimited as exc:
        context = {"token": token, "error": _("Too many requests. Try again later.")}
        return render(request, "accounts/reset_password.html", context, status=exc.status_code)
    except ApplicationError as exc:
        context = {"token": token, "error": _first_error(exc)}
        return render(request, "accounts/reset_password.html", context, status=400)
    messages.success(request, _("Your password has been changed. Sign in with the new one."))
    return redirect("login")


@require_http_methods(["GET", "POST"])
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the sign-up e-mail. GET only shows a button: mail scanners open links, and
    confirming must take the person's click."""
    context = {"token": token}
    if request.method == "GET":
        return render(request, "accounts/signup_confirm.html", context)
    try:
        enforce(
            request,
            group="register-confirm",
            key=client_ip(request),
            rate=settings.RATELIMIT_REGISTER,
        )
        user = services.signup_confirm(token=token)
    except RateLimited as exc:
        context["error"] = _("Too many requests. Try again later.")
        return render(request, "accounts/signup_confirm.html", context, status=exc.status_code)
    except ApplicationError as exc:
        context["error"] = SIGNUP_ERRORS.get(exc.code, _first_error(exc))
        return render(request, "accounts/signup_confirm.html", context, status=400)
    login(request, user)
    messages.success(request, _("Your workspace is ready."))
    return redirect("inbox")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language: kept on the user (and in a cookie for the sign-in page)."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponse(_("Unknown language."), status=400, content_type="text/plain")
    if request.user.is_authenticated:
        services.user_update_profile(user=request.user, data={"language": language})
    translation.activate(language)
    response = HttpResponseRedirect(_safe_next(request, reverse("home")))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response
