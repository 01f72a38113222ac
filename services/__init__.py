"""The fupin services: one package per service, each with its own database and migrations."""
