"""The clock, and the delivery of everything the bot sends on its own."""
