"""Settings pages in a real browser against a real daphne: an admin sets up an assistant (with a
schedule, knowledge and a playground answer) and a sandbox channel, then writes as a customer
from the simulator and the conversation lands in the database."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from assistants.models import Assistant, KnowledgeDocument, Schedule
from conversations.models import Conversation
from flame.testing import browser_sign_in
from integrations.models import Integration

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 10_000


def _create_assistant(page, base_url: str) -> Assistant:
    page.goto(f"{base_url}/settings/assistants/")
    expect(page.get_by_test_id("assistant-empty")).to_be_visible()
    page.get_by_test_id("assistant-new").click()
    page.fill("input[name=name]", "Recepción")
    page.check("input[name=type][value=ai]")
    expect(page.locator("textarea[name=ai_prompt]")).to_be_visible()  # shown for AI only
    page.fill("textarea[name=ai_prompt]", "Eres la recepción de una pastelería. Responde breve.")
    page.fill("textarea[name=auto_response]", "Gracias, te respondemos en breve.")
    page.check("input[name=schedule_mode][value=always]")
    page.get_by_test_id("assistant-save").click()
    expect(page.locator(".flash")).to_contain_text("Recepción")
    return Assistant.objects.get(name="Recepción")


def _add_schedule(page) -> None:
    page.get_by_test_id("tab-schedules").click()
    page.select_option("select[name=day_of_week]", "5")
    page.fill("input[name=start_time]", "22:00")
    page.fill("input[name=end_time]", "02:00")
    page.get_by_test_id("schedule-save").click()
    expect(page.locator(".flash")).to_contain_text("Intervalo agregado")
    friday = page.get_by_test_id("week-day-5")
    expect(friday.get_by_test_id("interval")).to_contain_text("22:00\N{EN DASH}02:00")
    # The part after midnight is drawn on Saturday.
    expect(page.get_by_test_id("week-day-6").locator(".segment-spill")).to_have_count(1)


def _add_knowledge_and_train(page) -> None:
    page.get_by_test_id("tab-knowledge").click()
    page.fill("input[name=title]", "Horario de atención")
    page.fill(
        "textarea[name=content]",
        "Horario de atención: abrimos de lunes a sábado de 9:00 a 19:00. Domingos cerrado.",
    )
    page.get_by_test_id("document-save").click()
    expect(page.get_by_test_id("train-status")).to_have_text("Necesita entrenamiento")
    page.get_by_test_id("train").click()
    expect(page.get_by_test_id("train-status")).to_have_text("Actualizado")


def _ask_the_playground(page) -> None:
    page.get_by_test_id("tab-playground").click()
    page.get_by_test_id("playground-input").fill("¿Cuál es su horario de atención?")
    page.get_by_test_id("playground-send").click()
    answer = page.get_by_test_id("playground-answer")
    expect(answer).to_be_visible(timeout=TIMEOUT_MS)
    expect(answer).to_contain_text("lunes a sábado")
    expect(answer.locator("details.snippets summary")).to_contain_text("(1)")


def _create_sandbox(page, base_url: str) -> Integration:
    page.goto(f"{base_url}/settings/integrations/")
    page.get_by_test_id("integration-new").click()
    page.get_by_test_id("platform-sandbox").click()
    page.fill("input[name=name]", "Pruebas")
    page.select_option("select[name=default_assistant]", label="Recepción")
    page.get_by_test_id("integration-save").click()
    expect(page.get_by_test_id("integration-name")).to_have_text("Pruebas")
    return Integration.objects.get(name="Pruebas")


def _reconnect(page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())  # data-confirm asks first
    page.get_by_test_id("integration-disconnect").click()
    expect(page.get_by_test_id("integration-status")).to_have_text("No conectado")
    page.get_by_test_id("integration-connect").click()
    expect(page.get_by_test_id("integration-status")).to_have_text("Conectado")


def test_admin_sets_up_an_assistant_and_a_sandbox_and_simulates_a_customer(
    live_app, browser_context, admin_user
):
    # The admin chose no language: pages speak their workspace's (the factory's Spanish).
    page = browser_context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)

    assistant = _create_assistant(page, live_app)
    _add_schedule(page)
    _add_knowledge_and_train(page)
    _ask_the_playground(page)

    integration = _create_sandbox(page, live_app)
    _reconnect(page)
    webhook_url = page.get_by_test_id("webhook-url")
    expect(webhook_url).to_have_value(re.compile(rf"/api/webhooks/sandbox/{integration.pk}$"))

    page.get_by_test_id("sim-name").fill("Lucía Pérez")
    page.get_by_test_id("sim-from").fill("+5215550001111")
    page.get_by_test_id("sim-text").fill("Hola, ¿abren el domingo?")
    page.get_by_test_id("sim-send").click()
    expect(page.get_by_test_id("sim-result")).to_contain_text("Recibido de Lucía Pérez")
    expect(page.get_by_test_id("sim-inbox-link")).to_have_attribute("href", "/inbox/")
    expect(page.get_by_test_id("count-messages-in")).to_have_text("1")  # refreshed in place

    assistant.refresh_from_db()
    schedule = Schedule.objects.get(assistant=assistant)
    assert (assistant.type, assistant.schedule_mode, assistant.status) == ("ai", "always", "active")
    assert (schedule.day_of_week, schedule.crosses_midnight) == (5, True)
    assert KnowledgeDocument.objects.filter(assistant=assistant).count() == 1
    integration.refresh_from_db()
    assert (integration.status, integration.default_assistant_id) == ("active", assistant.pk)
    conversation = Conversation.objects.get(integration=integration)
    assert conversation.contact.name == "Lucía Pérez"
    assert conversation.messages.filter(sender="user", content="Hola, ¿abren el domingo?").exists()
