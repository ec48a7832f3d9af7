"""Proposals to the staff congress: the state machine, the services and who is told what."""
