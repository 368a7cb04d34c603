"""WhatsApp Business Cloud API channel: one integration per phone number.

See docs/channels.md §whatsapp.
"""
