"""Money is integer fen; yuan appear only as text for people and banks, written by the one `yuan`."""


def yuan(fen: int, *, grouped: bool = False) -> str:
    """Fen as yuan text with two decimals: 123456 → '1234.56' (for a bank's file), or '1,234.56' when `grouped`
    (for people); -5 → '-0.05' (exact: integer arithmetic)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouped else f"{sign}{whole}.{cents:02d}"
