"""Rendering neutral replies for platforms, and escaping user text for each markup."""
