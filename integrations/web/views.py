from django.shortcuts import render

from accounts.web.access import admin_required


@admin_required
def integration_list(request):
    return render(request, "integrations/settings_list.html", {"nav": "integrations"})
