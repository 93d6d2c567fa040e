"""Credentials never reach the user's screen: the one place URLs are redacted before they are shown.

Index URLs may carry ``user:password@`` (``--repository-url``, ``--index-url``, ``TWINE_REPOSITORY_URL``,
a ``repository`` line in .pypirc) or a token in the query (``?token=...``, a signed URL's ``sig=``).
Every message, hint, note and printed command that can hold such a URL goes through
:func:`redact_url`, which also works on whole messages; :func:`url_credentials` tells whether a text
holds such a credential at all (generated files refuse one). Standard library only: the console
imports it at start-up.
"""

from __future__ import annotations

import re

MASK = "***"

_SCHEME = r"\b[A-Za-z][A-Za-z0-9+.\-]*://"
# scheme://userinfo@ : userinfo is everything up to the last "@" before the host (a raw "@" in a
# password included), never crossing "/", "?", "#" or whitespace.
_USERINFO = re.compile(rf"(?P<scheme>{_SCHEME})(?P<userinfo>[^/?#\s]*)@")
# ``user:pa/ss@host``: a password holding a raw "/" (or "?", "#") is no valid userinfo, but it is
# still the user's password; ``host:8080/path@x`` (a port, then "@" in the path) is not one, while
# ``user:0#x@host`` and ``user:12?x@host`` are (no index URL puts an "@" in a query or fragment
# right after its port).
_BROKEN_USERINFO = re.compile(rf"(?P<scheme>{_SCHEME})(?P<userinfo>[^/?#@\s:]*:(?!\d+(?:/|$))[^@\s]*)@")
# Query parameters that carry a credential in the URLs of indexes, webhooks and signed downloads.
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|pass|secret|client_secret|token|access_token|private_token"
    r"|auth_token|auth|api[_-]?key|apikey|key|sig|signature|x-amz-signature|x-amz-credential"
    r"|x-amz-security-token)=)(?!\$)(?P<value>[^&#\s'\"]+)",  # "$NAME": a variable, no secret
    re.IGNORECASE,
)


def _mask(match: re.Match[str]) -> str:
    user, colon, _ = match.group("userinfo").partition(":")
    # user:password@ keeps the user (it tells which account); a lone user@ may itself be a token
    shown = f"{user}:{MASK}" if colon and user else MASK
    return f"{match.group('scheme')}{shown}@"


def redact_url(text: str) -> str:
    """``text`` (a URL, or a message holding URLs) with the password of every URL replaced by ``***``:
    ``http://user:password@host/`` shows as ``http://user:***@host/``, ``http://token@host/`` as
    ``http://***@host/``, ``https://host/hook?token=abc`` as ``https://host/hook?token=***``."""
    if "@" in text:
        text = _USERINFO.sub(_mask, _BROKEN_USERINFO.sub(_mask, text))
    if "=" in text and "://" in text:
        text = _QUERY_SECRET.sub(lambda m: f"{m.group('key')}{MASK}", text)
    return text


def url_credentials(text: str) -> str | None:
    """What credential a URL in ``text`` carries (``"user:password@"``, ``"token@"``, ``"token= in
    the query"``), or None: a generated file refuses the text rather than write it."""
    match = _BROKEN_USERINFO.search(text) or _USERINFO.search(text)
    if match:
        return "user:password@" if ":" in match.group("userinfo") else "user@ (a user name or token)"
    query = _QUERY_SECRET.search(text) if "://" in text else None
    if query:
        return f"{query.group('key')[1:]} in the query"
    return None
