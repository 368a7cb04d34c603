"""The holidays page in a real Chromium at 1440x900 and 390x844: it fits, every control is within
reach (44 px on the phone), an admin reaches it from the workspace settings, adds a date with its
own hours, edits it, and sees why a feed address is refused."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts import calendar
from accounts.models import DateOverride, HolidayFeed
from accounts.tests.factories import DEFAULT_PASSWORD
from flame.testing import assert_usable_at, browser_sign_in, context_options, watch_errors

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZES = ["desktop", "phone"]


@contextmanager
def _device(chromium, size: str):
    context = chromium.new_context(**context_options(size))
    errors = watch_errors(context)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def calendar_rows(workspace):
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    today = calendar.today(workspace, timezone.now())
    feed = HolidayFeed.objects.create(
        workspace=workspace,
        name="Public holidays in Mexico",
        url="https://calendar.example/" + "a-very-long-secret-path/" * 6 + "basic.ics",
        last_fetched_at=timezone.now(),
        last_error="The file is not an iCalendar (.ics) calendar.",
    )
    DateOverride.objects.create(
        workspace=workspace,
        date=today + timedelta(days=4),
        name="Día de la Independencia y un nombre largo que ocupa más de una línea",
        source="feed",
        feed=feed,
    )
    return today


@pytest.mark.parametrize("size", SIZES)
def test_an_admin_adds_and_edits_a_date_with_its_own_hours(
    chromium, live_app, calendar_rows, admin_user, size
):
    day = calendar_rows + timedelta(days=10)
    with _device(chromium, size) as page:
        browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)
        page.goto(f"{live_app}{reverse('settings-workspace')}")
        page.get_by_test_id("link-holidays").click()
        page.wait_for_load_state("networkidle")
        assert_usable_at(page, size)
        expect(page.get_by_test_id("holiday-feed-error")).to_contain_text("not an iCalendar")

        form = page.get_by_test_id("holiday-form")
        form.get_by_label("Date").fill(day.isoformat())
        form.get_by_label("That day").select_option("hours")
        form.get_by_label("Opens").fill("10:00")
        form.get_by_label("Closes").fill("14:00")
        form.get_by_label("Name").fill("Inventory")
        page.get_by_test_id("holiday-add").click()
        row = page.locator(f"[data-testid=holiday-row][data-date='{day.isoformat()}']")
        expect(row.get_by_test_id("holiday-hours")).to_have_text("10:00\N{EN DASH}14:00")
        assert_usable_at(page, size)

        row.get_by_test_id("holiday-edit").click()
        page.wait_for_load_state("networkidle")
        assert_usable_at(page, size)
        page.get_by_label("That day").select_option("closed")
        page.get_by_test_id("holiday-save").click()
        expect(row.get_by_test_id("holiday-hours")).to_have_text("Closed")

    saved = DateOverride.objects.get(date=day)
    assert (saved.closed, saved.opens, saved.closes, saved.name) == (True, None, None, "Inventory")


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_feed_address_is_shown_on_the_form(
    chromium, live_app, calendar_rows, admin_user, size
):
    with _device(chromium, size) as page:
        browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)
        page.goto(f"{live_app}{reverse('settings-holidays')}")
        form = page.get_by_test_id("holiday-feed-form")
        form.get_by_label("Name").fill("Intranet")
        form.get_by_label("Calendar address (.ics)").fill("http://127.0.0.1/holidays.ics")
        page.get_by_test_id("holiday-feed-add").click()

        expect(form.get_by_test_id("error-url")).to_contain_text(
            "private and local addresses are refused"
        )
        assert_usable_at(page, size)

    assert list(HolidayFeed.objects.values_list("name", flat=True)) == ["Public holidays in Mexico"]
