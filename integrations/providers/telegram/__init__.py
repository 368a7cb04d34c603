"""Telegram Bot API channel: one Update per webhook POST, sends through the bot's HTTP API."""
