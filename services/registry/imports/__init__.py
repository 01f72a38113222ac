"""Imports (导入): households and persons from an office's existing XLSX or CSV ledger, one row per person.

parse.py reads the file into rows of text, validate.py checks them (alone, against each other, against the
database) and groups them into households, load.py writes them (COPY on PostgreSQL, batched inserts on SQLite),
service.py runs it all as a job with progress, the same code for the API's background task and the CLI.
"""
