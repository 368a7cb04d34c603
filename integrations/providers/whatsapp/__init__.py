"""WhatsApp Business Cloud API channel (channels.md §1): one integration per phone number."""
