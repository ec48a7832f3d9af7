"""The shared SQL store: models, sessions, migrations and the domain rules on the data.

Nothing here knows about chat platforms; services take and return plain values.
"""
