"""Demo assistants: an out-of-hours fixed reply and an AI sales assistant with a small FAQ.

Seeded before the integrations' demo, which makes the sales assistant answer the sandbox channel
and then sends the demo conversations through it. Idempotent:
assistants are found by their stable id (admins may rename them), schedules by interval and
FAQ entries by title, and only created when missing; the index is rebuilt only when the
knowledge changed.
"""

from __future__ import annotations

from datetime import time

from accounts.demo import stable_id
from assistants import services
from assistants.models import Assistant, KnowledgeDocument, Schedule

OUT_OF_HOURS = {
    "name": "Fuera de horario",
    "description": "Contesta fuera del horario de atención.",
    "type": Assistant.Type.AUTO,
    "schedule_mode": Assistant.ScheduleMode.OUTSIDE,
    "auto_response": (
        "¡Gracias por escribirnos! Atendemos de lunes a viernes de 9:00 a 19:00 y sábados de "
        "10:00 a 14:00. Te respondemos en cuanto abramos. / Thanks for your message! We are "
        "open Monday to Friday 9:00-19:00 and Saturday 10:00-14:00 and will reply then."
    ),
}

# (day_of_week with 0 = Sunday, start, end)
OFFICE_HOURS = [(day, time(9), time(19)) for day in range(1, 6)] + [(6, time(10), time(14))]

SALES = {
    "name": "Ventas IA",
    "description": "Responde preguntas de clientes con la base de conocimiento de la tienda.",
    "type": Assistant.Type.AI,
    "schedule_mode": Assistant.ScheduleMode.ALWAYS,
    "ai_prompt": (
        "Eres el asistente de ventas de Pastelería FLAME. Responde de forma breve, amable y "
        "en el idioma del cliente. Si el cliente quiere hacer un pedido, pide sabor, tamaño, "
        "fecha y dirección de entrega."
    ),
    "auto_response": (
        "¡Gracias por tu mensaje! Una persona de nuestro equipo te responde en breve. / "
        "Thanks for your message! Someone from our team will get back to you shortly."
    ),
    "temperature": 0.4,
    "max_tokens": 300,
}

FAQ = [
    (
        "Envíos",
        "Enviamos a toda la República Mexicana. En CDMX entregamos el mismo día los pedidos "
        "hechos antes de las 12:00; al resto del país llegan en 48 horas. El envío cuesta "
        "$120 MXN y es gratis en compras mayores a $1,000 MXN.",
    ),
    (
        "Horario de la tienda",
        "Abrimos de lunes a viernes de 9:00 a 19:00, los sábados de 10:00 a 14:00 y los "
        "domingos de 9:00 a 14:00.",
    ),
    (
        "Formas de pago",
        "Aceptamos tarjeta de crédito o débito, transferencia bancaria y pago en efectivo "
        "contra entrega en CDMX.",
    ),
    (
        "Pasteles sin gluten",
        "Tenemos pastel de chocolate y de zanahoria sin gluten, por encargo con 48 horas de "
        "anticipación.",
    ),
    (
        "Shipping",
        "We ship anywhere in Mexico. Orders placed in Mexico City before 12:00 are delivered "
        "the same day; elsewhere delivery takes 48 hours. Shipping costs $120 MXN and is free "
        "on orders over $1,000 MXN.",
    ),
    (
        "Opening hours",
        "We are open Monday to Friday 9:00-19:00, Saturday 10:00-14:00 and Sunday 9:00-14:00.",
    ),
    (
        "Payment methods",
        "We accept credit and debit cards, bank transfers, and cash on delivery in Mexico City.",
    ),
    (
        "Gluten-free cakes",
        "We make gluten-free chocolate and carrot cakes to order, with 48 hours' notice.",
    ),
]


OUT_OF_HOURS_KEY = "assistant:out-of-hours"
SALES_KEY = "assistant:sales"


def _find(workspace, key: str, name: str) -> Assistant | None:
    return (
        Assistant.objects.filter(pk=stable_id(workspace, key)).first()
        # A workspace seeded before assistants had stable ids knows them by name.
        or Assistant.objects.filter(workspace=workspace, name=name).first()
    )


def _assistant(workspace, key: str, fields: dict) -> Assistant:
    return _find(workspace, key, fields["name"]) or Assistant.objects.create(
        pk=stable_id(workspace, key), workspace=workspace, **fields
    )


def sales_assistant(workspace) -> Assistant | None:
    return _find(workspace, SALES_KEY, SALES["name"])


def _office_hours(assistant: Assistant) -> None:
    for day, start, end in OFFICE_HOURS:
        Schedule.objects.get_or_create(
            assistant=assistant, day_of_week=day, start_time=start, end_time=end
        )


def _faq(assistant: Assistant) -> None:
    documents = KnowledgeDocument.objects.filter(assistant=assistant)
    known = set(documents.values_list("title", flat=True))
    for title, content in FAQ:
        if title not in known:
            services.knowledge_create(assistant=assistant, title=title, content=content)
    assistant.refresh_from_db()
    if assistant.needs_training:
        services.knowledge_index_build(assistant_id=assistant.pk)


def seed_into(context) -> None:
    workspace = context.workspace
    _office_hours(_assistant(workspace, OUT_OF_HOURS_KEY, OUT_OF_HOURS))
    sales = _assistant(workspace, SALES_KEY, SALES)
    _faq(sales)
