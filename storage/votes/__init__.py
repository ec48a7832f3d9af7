"""Votes at the congress (表决, 选举, 民主评议): rules, ballots, tallies (issue 21)."""
