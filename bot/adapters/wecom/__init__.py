"""The WeCom (企业微信) adapter, registered as the `wecom` entry point."""

from bot.adapters.wecom.adapter import WeComAdapter

__all__ = ["WeComAdapter"]
