"""Instagram messaging (platform key ``instagram``): a professional account's DMs.

Webhooks and sends use the Meta messaging envelope shared with Messenger
(``integrations.providers.meta_messaging``), including the ``entry[].changes[]`` shape some
Instagram apps receive. Instagram's own: the IG token and account id, 100 text sends/s per
account (the lower of the two published figures, docs/channels.md §instagram.limits), echoes
without ``app_id`` or ``metadata`` (matched by mid), ``read`` receipts by mid, ``is_deleted`` and
``is_unsupported``.

Sends go to ``GRAPH_API_BASE_URL`` (graph.facebook.com, for accounts linked to a Page). Accounts
connected with Instagram Login are served by graph.instagram.com instead: that host is a
deployment setting (point ``GRAPH_API_BASE_URL`` at it when every IG account uses Instagram Login).
"""
