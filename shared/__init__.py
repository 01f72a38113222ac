"""Contracts and plumbing shared by every fupin service: schemas, settings, database, auth, errors, paging."""
