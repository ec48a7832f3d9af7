"""Congress meetings: invitations, answers and leave, sign-in with rotating codes, quorum."""
