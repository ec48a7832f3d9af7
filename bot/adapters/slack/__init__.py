"""The Slack adapter (slack-bolt AsyncApp), registered as the `slack` entry point."""

from bot.adapters.slack.adapter import SlackAdapter

__all__ = ["SlackAdapter"]
