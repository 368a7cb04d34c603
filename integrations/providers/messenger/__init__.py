"""Facebook Messenger (platform key ``facebook``): a Page's conversations.

Webhooks and sends use the Meta messaging envelope shared with Instagram
(``integrations.providers.meta_messaging``); this package only says what is Messenger's own:
the Page token, the Page id webhooks are routed by, 300 text sends/s per Page, and the
``messaging_type``/``metadata`` fields Messenger's Send API takes.
"""
