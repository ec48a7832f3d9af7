"""The Telegram adapter (python-telegram-bot), registered as the `telegram` entry point."""

from bot.adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]
