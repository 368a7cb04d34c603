"""The satisfaction models, moved here from analytics (which became read-only).

The tables already exist (analytics 0001 created them): this migration only adopts them in
Django's state; 0002 renames them and moves their content types.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0001_initial'),
        ('assistants', '0002_schedules_knowledge_usage_replies'),
        ('conversations', '0004_last_message_sender'),
        ('analytics', '0001_satisfaction'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name='SatisfactionSurvey',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('answered_at', models.DateTimeField(blank=True, null=True)),
                ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('assistant', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='assistants.assistant')),
                ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='surveys', to='conversations.conversation')),
                ('message', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='conversations.message')),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
            ],
            options={
                'verbose_name': 'satisfaction survey',
                'db_table': 'analytics_satisfactionsurvey',
            },
        ),
        migrations.CreateModel(
            name='SatisfactionRating',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('score', models.PositiveSmallIntegerField()),
                ('comment', models.TextField(blank=True)),
                ('source', models.CharField(choices=[('customer', 'Customer'), ('agent', 'Recorded by an agent')], default='customer', max_length=8)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('assistant', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='assistants.assistant')),
                ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ratings', to='conversations.conversation')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
                ('survey', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='rating', to='satisfaction.satisfactionsurvey')),
            ],
            options={
                'verbose_name': 'satisfaction rating',
                'db_table': 'analytics_satisfactionrating',
            },
        ),
        migrations.AddIndex(
            model_name='satisfactionsurvey',
            index=models.Index(fields=['workspace', 'sent_at'], name='survey_sent'),
        ),
        migrations.AddIndex(
            model_name='satisfactionsurvey',
            index=models.Index(models.F('conversation'), models.OrderBy(models.F('sent_at'), descending=True), name='survey_latest'),
        ),
        migrations.AddIndex(
            model_name='satisfactionrating',
            index=models.Index(fields=['workspace', 'created_at'], name='rating_created'),
        ),
        migrations.AddIndex(
            model_name='satisfactionrating',
            index=models.Index(fields=['agent', 'created_at'], name='rating_agent'),
        ),
        migrations.AddIndex(
            model_name='satisfactionrating',
            index=models.Index(models.F('conversation'), models.OrderBy(models.F('created_at'), descending=True), name='rating_latest'),
        ),
        migrations.AddConstraint(
            model_name='satisfactionrating',
            constraint=models.CheckConstraint(condition=models.Q(('score__gte', 1), ('score__lte', 5)), name='rating_score_1_to_5'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations)
    ]
