"""Surveys (调查问卷): what staff think, asked in chat (article 16)."""
