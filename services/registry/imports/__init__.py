"""Imports (导入): households and persons from an office's existing XLSX or CSV ledger, one row per person.

parse.py reads the file into rows of text, validate.py checks them (alone, against each other, against the
database) and groups them into households, load.py writes them (COPY on PostgreSQL, batched inserts on SQLite),
service.py queues a job and run.py runs it all with progress, the same code for the API's background task and the
CLI; repository.py holds the other SQL (the job rows, the look-ups of the rows' keys).
"""
