from django.shortcuts import render

from accounts.web.access import member_required


@member_required
def inbox(request):
    return render(request, "conversations/inbox.html", {"nav": "inbox"})
