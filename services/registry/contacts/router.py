"""Contacts, the five ones, needs surveys, income plans, isolation check-ins, clean-ups, impact surveys."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/registry", tags=["registry: contacts 帮扶联系"])
