"""Credentials never reach the user's screen: the one place URLs are redacted before they are shown.

Index URLs may carry ``user:password@`` (``--repository-url``, ``--index-url``, ``TWINE_REPOSITORY_URL``,
a ``repository`` line in .pypirc). Every message, hint, note and printed command that can hold such a
URL goes through :func:`redact_url`, which also works on whole messages. Standard library only: the
console imports it at start-up.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://userinfo@ : userinfo is everything up to the last "@" before the host (a raw "@" in a
# password included), never crossing "/", "?", "#" or whitespace.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s]*)@")


def _mask(match: re.Match[str]) -> str:
    user, colon, _ = match.group("userinfo").partition(":")
    # user:password@ keeps the user (it tells which account); a lone user@ may itself be a token
    shown = f"{user}:{MASK}" if colon and user else MASK
    return f"{match.group('scheme')}{shown}@"


def redact_url(text: str) -> str:
    """``text`` (a URL, or a message holding URLs) with the password of every URL replaced by ``***``:
    ``http://user:password@host/`` shows as ``http://user:***@host/``, ``http://token@host/`` as
    ``http://***@host/``."""
    return _USERINFO.sub(_mask, text) if "@" in text else text
