"""Pydantic models of everything that crosses a service boundary."""
