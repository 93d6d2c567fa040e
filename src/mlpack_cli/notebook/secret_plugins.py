"""detect-secrets plugins for the tokens its own plugins miss, loaded by path as its custom plugins.

detect-secrets 1.5's ``OpenAIDetector`` only knows keys that hold the ``T3BlbkFJ`` marker, and it has
no Hugging Face plugin; both token kinds are common in notebooks. detect-secrets loads this file
itself (``plugins_used: [{"name": ..., "path": "file://..."}]``), so its filters and its allowlist
pragma apply to these findings exactly as to its own. Never imported by mlpack directly.
"""

from __future__ import annotations

import re

from detect_secrets.plugins.base import RegexBasedDetector

# A random token's body: at least one upper-case and one lower-case letter, so that words such as
# "sk-learn-..." or "hf_hub_download" never match.
_MIXED = r"(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])"


class OpenAIKeyDetector(RegexBasedDetector):
    """OpenAI-style API keys: ``sk-...``, ``sk-proj-...``, ``sk-svcacct-...`` (and ``sk-ant-...``)."""

    secret_type = "OpenAI API Key"  # pragma: allowlist secret
    denylist = [re.compile(r"(?<![A-Za-z0-9_-])sk-" + _MIXED + r"[A-Za-z0-9_-]{20,}")]


class HuggingFaceTokenDetector(RegexBasedDetector):
    """Hugging Face access tokens: ``hf_`` and 30 or more letters and digits."""

    secret_type = "Hugging Face Token"  # pragma: allowlist secret
    denylist = [re.compile(r"(?<![A-Za-z0-9_])hf_" + _MIXED + r"[A-Za-z0-9]{30,}")]
