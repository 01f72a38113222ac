"""Contracts and plumbing shared by every fupin service: schemas, settings, database, auth, errors, paging."""

import sys

# httpx's package imports its command-line client when click and rich are installed (typer, for the fupin command,
# brings both): rich and pygments, about 6 MB in every service, which no service uses. A None in sys.modules makes
# that optional import fail, which httpx expects and answers with a stub.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
