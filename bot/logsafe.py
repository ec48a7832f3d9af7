"""Secrets never reach the logs, whichever library logs them.

Libraries log URLs and payloads that carry tokens (PTB logs its Bot API URL, which
contains the bot token, at DEBUG). A log record factory redacts every registered
secret from every record before any handler sees it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_INSTALLED = False
REDACTED = "***"


def redact_in_logs(*secrets: str) -> None:
    """Register secrets (short ones are ignored: they would redact ordinary words)."""
    global _INSTALLED
    with _LOCK:
        _SECRETS.update(s for s in secrets if s and len(s) >= 8)
        if _INSTALLED:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _SECRETS:
                message = record.getMessage()
                if any(secret in message for secret in _SECRETS):
                    for secret in _SECRETS:
                        message = message.replace(secret, REDACTED)
                    record.msg, record.args = message, ()
            return record

        logging.setLogRecordFactory(factory)
        _INSTALLED = True


def quiet_payloads(*loggers: str) -> None:
    """Keep these libraries' DEBUG lines out of the log, whatever the log level: they copy
    every request's body, and a message's body is what a person wrote or chose (a
    survey's answer, the confirmation of a secret ballot). Their INFO and above stay."""
    for name in loggers:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET (0) included: it would follow the root
            logger.setLevel(logging.INFO)
