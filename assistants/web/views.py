from django.shortcuts import render

from accounts.web.access import admin_required


@admin_required
def assistant_list(request):
    return render(request, "assistants/settings_list.html", {"nav": "assistants"})
