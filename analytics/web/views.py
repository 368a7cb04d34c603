from django.shortcuts import render

from accounts.web.access import member_required


@member_required
def dashboard(request):
    return render(request, "analytics/dashboard.html", {"nav": "dashboard"})
