"""The session's areas: one module per table family, async source + generated sync."""
