"""The chat-bot framework: message model, commands, dispatch, permissions, rendering, i18n.

Nothing in the core of this package knows about unions; the composition root
(`bot.app`) and the CLI (`bot.cli`) are the only modules that wire in `commands`,
`storage` and `schedules`.
"""
