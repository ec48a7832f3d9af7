"""Officers' digests: what needs each officer's attention, once a day or a week, exactly.

`schedule` says when a person's digest is due (pure), `readers` who gets one and what
their roles let them see, `compose` what a window holds, `service` records and queues
each digest once, and `alerts` what cannot wait for the digest.
"""
