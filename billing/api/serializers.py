"""Input and output shapes of the payments, notices and operators API."""

from __future__ import annotations

from rest_framework import serializers

from accounts import plans
from billing.models import Invoice, Notice, Subscription
from conversations.api.serializers import StrictInputSerializer

# --- plans and the workspace's subscription --------------------------------------------------


class PlanLimitsSerializer(serializers.Serializer):
    channels = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    agents = serializers.IntegerField(
        allow_null=True, help_text="Seats: active members and pending invitations."
    )
    analytics_days = serializers.IntegerField(
        allow_null=True, help_text="Days of history reports may cover; null: all."
    )
    api_access = serializers.BooleanField(help_text="Whether bearer tokens (JWT) may be used.")


class PlanQuotaSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    tokens = serializers.IntegerField()


class PlanSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=plans.CODES)
    name = serializers.CharField()
    monthly_price = serializers.DecimalField(max_digits=8, decimal_places=2)
    currency = serializers.CharField()
    quotas = PlanQuotaSerializer(allow_null=True, help_text="Daily AI quota; null: unlimited.")
    limits = PlanLimitsSerializer()
    providers = serializers.ListField(
        child=serializers.CharField(), help_text="Where this plan can be paid on this server."
    )


class PlanListSerializer(serializers.Serializer):
    results = PlanSerializer(many=True)


class SubscriptionSerializer(serializers.ModelSerializer):
    lapsed = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = (
            "provider",
            "plan",
            "status",
            "cancel_at_period_end",
            "current_period_end",
            "grace_until",
            "lapsed",
        )
        read_only_fields = fields

    def get_lapsed(self, row: Subscription) -> bool:
        return row.lapsed_at is not None


class MeterSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True, help_text="null: unlimited")


class UsageSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="Today, in the workspace's time zone.")
    ai_requests = MeterSerializer()
    ai_tokens = MeterSerializer()
    channels = MeterSerializer()
    agents = MeterSerializer()


class BillingOverviewSerializer(serializers.Serializer):
    plan = PlanSerializer()
    subscription = SubscriptionSerializer(allow_null=True)
    usage = UsageSerializer()


class SubscribeSerializer(StrictInputSerializer):
    # Text checked by the service, rather than choices: the schema's "plan" enum is the four
    # plans of a workspace.
    plan = serializers.CharField(max_length=16, help_text="starter, pro or business")


class SubscribeResultSerializer(serializers.Serializer):
    checkout_url = serializers.URLField(
        allow_null=True, help_text="Where to pay, for a new subscription."
    )
    subscription = SubscriptionSerializer(
        allow_null=True, help_text="The subscription as changed, for an existing one."
    )


class SubscriptionResultSerializer(serializers.Serializer):
    subscription = SubscriptionSerializer()


class PortalSerializer(serializers.Serializer):
    url = serializers.URLField()


class InvoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = (
            "id",
            "provider",
            "number",
            "status",
            "amount",
            "currency",
            "url",
            "pdf_url",
            "period_start",
            "period_end",
            "issued_at",
        )
        read_only_fields = fields


class PaymentMethodSerializer(serializers.Serializer):
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField(allow_null=True)
    exp_year = serializers.IntegerField(allow_null=True)


class PaymentMethodListSerializer(serializers.Serializer):
    results = PaymentMethodSerializer(many=True)


# --- notices ----------------------------------------------------------------------------------


class NoticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notice
        fields = ("id", "kind", "level", "title", "body", "created_at")
        read_only_fields = fields


class NoticeListSerializer(serializers.Serializer):
    results = NoticeSerializer(many=True)


class NoticeCreateSerializer(StrictInputSerializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    level = serializers.ChoiceField(choices=Notice.Level.choices, default=Notice.Level.INFO)


# --- operators --------------------------------------------------------------------------------


class MetricsQuerySerializer(StrictInputSerializer):
    days = serializers.IntegerField(min_value=1, max_value=90, default=30, required=False)


class LogsQuerySerializer(StrictInputSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=100, required=False)


class WorkspacesByPlanSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_plan = serializers.DictField(child=serializers.IntegerField())


class MessagesDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    inbound = serializers.IntegerField()
    outbound = serializers.IntegerField()


class AIDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    calls = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=6)


class WebhookFailuresDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    channels = serializers.IntegerField(help_text="Channel webhooks that failed to process.")
    payments = serializers.IntegerField(help_text="Payment provider events that failed.")


class PlatformMetricsSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    days = serializers.IntegerField()
    workspaces = WorkspacesByPlanSerializer()
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    subscriptions = serializers.DictField(
        child=serializers.IntegerField(), help_text="Subscriptions by status."
    )
    messages_per_day = MessagesDaySerializer(many=True)
    ai_per_day = AIDaySerializer(many=True)
    webhook_failures_per_day = WebhookFailuresDaySerializer(many=True)
    open_sockets = serializers.IntegerField()


class LogListSerializer(serializers.Serializer):
    results = serializers.ListField(
        child=serializers.DictField(),
        help_text="Newest first: time, level, logger, message, request_id, user_id, "
        "workspace_id, exception and whatever the line carried, secrets redacted.",
    )
