"""Development helpers: the embedded PostgreSQL (``pgrecall up``) and the demo."""
