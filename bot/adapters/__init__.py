"""Built-in adapters; each is registered in the `unionbot.adapters` entry-point group."""
