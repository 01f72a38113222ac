"""Money is integer fen (DESIGN.md); yuan appear only as text for people and banks."""


def yuan(fen: int) -> str:
    """Fen as yuan text with two decimals: 123456 → '1234.56', -5 → '-0.05' (exact: integer arithmetic)."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"
