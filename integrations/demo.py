"""Demo data for integrations: the sandbox channel of the demo workspace and conversations in
Spanish and English that arrived through it.

Customer messages go through the real inbound flow (``customer_message_receive``: the sales
assistant answers, the analysis runs) with fixed external ids, so seeding twice changes nothing
(the unique key on (integration, external_id) makes them no-ops); agent replies and tags are
only added the first time a thread is created.
"""

from __future__ import annotations

from assistants.demo import sales_assistant
from conversations import services
from conversations.models import Conversation
from integrations.inbound import customer_message_receive
from integrations.models import Integration, Platform


def sandbox_for(workspace) -> Integration:
    """The demo's sandbox channel, found by its account id (unique per platform and never
    edited from the product) rather than by its name, which an admin may change."""
    integration, _ = Integration.objects.get_or_create(
        platform=Platform.SANDBOX,
        external_account_id=f"sandbox-{workspace.pk}",
        defaults={"workspace": workspace, "name": "Sandbox", "status": Integration.Status.ACTIVE},
    )
    return integration


def seed_into(context) -> None:
    sandbox = sandbox_for(context.workspace)
    # The sales assistant answers the sandbox unless an admin chose another one.
    Integration.objects.filter(pk=sandbox.pk, default_assistant__isnull=True).update(
        default_assistant=sales_assistant(context.workspace)
    )
    sandbox.refresh_from_db()
    _seed_threads(context, sandbox)


THREADS = [
    {
        "contact": ("María González", "+5215512345678"),
        "messages": [
            "Hola, buenas tardes",
            "¿Tienen envío a Guadalajara? Quiero pedir dos pasteles de chocolate",
        ],
        "reply": (
            "¡Hola María! Sí, enviamos a Guadalajara en 48 horas. ¿Para qué fecha los necesitas?"
        ),
        "tags": ["envíos", "pedido"],
        "assign": "agent",
        "priority": "high",
    },
    {
        "contact": ("John Carter", "+14155550123"),
        "messages": [
            "Hi! My order #4821 arrived damaged.",
            "The box was crushed and the cake is ruined :(",
        ],
        "reply": None,
        "tags": ["complaint"],
        "assign": None,
        "priority": "urgent",
    },
    {
        "contact": ("Lucía Fernández", "+34611223344"),
        "messages": ["¿A qué hora abren los domingos?"],
        "reply": "Abrimos de 9:00 a 14:00 los domingos. ¡Te esperamos!",
        "tags": ["horarios"],
        "assign": "agent",
        "status": "resolved",
    },
    {
        "contact": ("Emily Johnson", "+447700900123"),
        "messages": ["Do you have gluten-free options?", "Also, can I pay by card on delivery?"],
        "reply": None,
        "tags": [],
        "assign": None,
    },
    {
        "contact": ("Carlos Ruiz", "+5215598765432"),
        "messages": ["Necesito factura de mi compra de ayer", "Mi RFC es RUCC800101XXX"],
        "reply": "Claro Carlos, en un momento te la enviamos por correo.",
        "tags": ["facturación"],
        "assign": "admin",
        "status": "pending",
    },
]


def _seed_thread(context, sandbox, index: int, thread: dict) -> None:
    name, phone = thread["contact"]
    created = False
    for position, text in enumerate(thread["messages"]):
        inbound = services.InboundMessage(
            external_contact_id=phone,
            external_id=f"demo-{index}-{position}",
            content=text,
            contact_name=name,
            contact_phone=phone,
        )
        result = customer_message_receive(integration=sandbox, inbound=inbound)
        created |= result.created
    if not created:
        return
    # The thread the messages went to (an admin may have edited the contact's phone).
    conversation = Conversation.objects.get(pk=result.message.conversation_id)
    assignee = {"agent": context.agent, "admin": context.admin}.get(thread["assign"])
    if assignee is not None:
        conversation = services.conversation_assign(
            by=context.admin, conversation=conversation, agent=assignee
        )
    if thread["reply"]:
        services.message_send_agent(
            by=assignee or context.admin,
            conversation=conversation,
            draft=services.OutboundDraft(content=thread["reply"]),
        )
    services.conversation_update(
        by=context.admin,
        conversation=conversation,
        tags=thread["tags"] or None,  # none chosen: the analysis may tag it
        status=thread.get("status"),
        priority=thread.get("priority"),
    )


def _seed_threads(context, sandbox: Integration) -> None:
    for index, thread in enumerate(THREADS):
        _seed_thread(context, sandbox, index, thread)
