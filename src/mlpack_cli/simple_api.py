"""What an index's simple API lists for a project: each file's name and sha256, read with pypi-simple.

pypi-simple asks for PEP 691 JSON and falls back to the HTML of PEP 503 (pypiserver, older devpi,
GitLab), so mlpack parses neither itself. Used before an upload (is the version there, with which
files), after a failed one (what arrived) and by the release pre-flight. Errors are the requests and
pypi-simple ones, translated by the caller, which knows which index and credentials they concern.
"""

from __future__ import annotations

from typing import Any


class NotASimpleAPI(Exception):
    """The index answered, but not with a simple API page (an HTML error page, an unknown version...)."""


def project_files(simple_url: str, name: str, auth: tuple[str, str] | None,
                  timeout: float) -> dict[str, str | None]:
    """Filename -> sha256 (None when the index gives no sha256) of every file ``simple_url`` lists for
    ``name``; empty when the index does not know the project (HTTP 404).

    Raises ``requests.HTTPError`` for other HTTP errors, ``requests.RequestException`` when the index
    cannot be reached and :class:`NotASimpleAPI` when the answer is not a simple API page."""
    from pypi_simple import NoSuchProjectError, PyPISimple, UnsupportedContentTypeError, UnsupportedRepoVersionError

    with PyPISimple(endpoint=simple_url, auth=auth) as client:
        try:
            page = client.get_project_page(name, timeout=timeout)
        except NoSuchProjectError:
            return {}
        except (UnsupportedContentTypeError, UnsupportedRepoVersionError) as exc:
            raise NotASimpleAPI(str(exc)) from None
        except ValueError as exc:  # JSON that does not follow PEP 691 (pydantic's errors are ValueErrors)
            raise NotASimpleAPI(f"the project page is not valid PEP 691 JSON ({type(exc).__name__})") from None
    return {package.filename: _sha256(package.digests) for package in page.packages}


def _sha256(digests: Any) -> str | None:
    value = digests.get("sha256") if digests else None
    return str(value).lower() if value else None
