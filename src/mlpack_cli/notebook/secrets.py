"""Secrets in notebook code and in built artifacts: found with detect-secrets, never written out.

Finding is detect-secrets' job (its plugins and filters, with the entropy limits below, plus the
two plugins of :mod:`mlpack_cli.notebook.secret_plugins`); a line that ends with its allowlist
pragma ``# pragma: allowlist secret`` (or follows ``# pragma: allowlist nextline secret``) is left
alone. Moving is ours, a source-level pass with libcst that keeps every other character of the cell:

- ``NAME = "secret"`` (or ``NAME: str = "secret"``) becomes a check that the environment variable
  ``NAME`` (upper-cased) is set, then ``NAME = os.environ["NAME"]``;
- ``os.environ["NAME"] = "secret"`` and ``os.environ.setdefault("NAME", "secret")`` become the check
  alone: the module expects the variable to be set;
- a secret anywhere else (a call argument, a dict, an f-string, a URL, a comment) cannot be moved
  without changing what the code means, so the notebook is refused.

The check raises ``RuntimeError("set the environment variable NAME")`` where the assignment was,
so a missing variable fails at run time with its name, never at import. Nothing here prints a secret:
a value is only ever shown through :func:`mask`.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import itertools
import math
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpack_cli.errors import NotebookError
from mlpack_cli.literals import py_string

if TYPE_CHECKING:
    import libcst as cst

    from mlpack_cli.notebook.reader import Cell

PRAGMA = "# pragma: allowlist secret"
GUARD_MESSAGE = "set the environment variable {name}"
_GUARD_PREFIX = "set the environment variable "
# detect-secrets plugins, by class name. Left out: IPPublicDetector (an IP address is no secret) and
# HexHighEntropyString (notebooks are full of checksums and commit ids; a hex secret assigned to a
# name such as api_key, secret or password is still found by the keyword detector).
_PLUGINS = (
    "AWSKeyDetector", "ArtifactoryDetector", "AzureStorageKeyDetector", "BasicAuthDetector",
    "CloudantDetector", "DiscordBotTokenDetector", "GitHubTokenDetector", "GitLabTokenDetector",
    "IbmCloudIamDetector", "IbmCosHmacDetector", "JwtTokenDetector", "KeywordDetector",
    "MailchimpDetector", "NpmDetector", "OpenAIDetector", "PrivateKeyDetector", "PypiTokenDetector",
    "SendGridDetector", "SlackDetector", "SoftlayerDetector", "SquareOAuthDetector", "StripeDetector",
    "TelegramBotTokenDetector", "TwilioKeyDetector",
)
_OWN_PLUGINS = ("OpenAIKeyDetector", "HuggingFaceTokenDetector")
_OWN_KINDS = ("OpenAI API Key", "Hugging Face Token")
# detect-secrets' default filters but one: is_indirect_reference drops every finding on a line that
# calls something, such as the very line a notebook passes its key to a client on.
_FILTERS = (
    "allowlist.is_line_allowlisted", "heuristic.is_sequential_string", "heuristic.is_potential_uuid",
    "heuristic.is_likely_id_string", "heuristic.is_templated_secret", "heuristic.is_prefixed_with_dollar_sign",
    "heuristic.is_lock_file", "heuristic.is_not_alphanumeric_string", "heuristic.is_swagger_file",
)
BASE64_ENTROPY_LIMIT = 4.5  # detect-secrets' default: random keys pass it, paths and model ids do not
# Findings of these kinds say least about what the value is; any other kind found for it is shown.
_VAGUE = ("Secret Keyword", "Base64 High Entropy String")
_TOKEN_CHARS = r"A-Za-z0-9_+/~\-"  # what a token is made of, with "=" at its end and "." between parts
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
# What documentation writes in place of a secret: the word itself, a mask, an elided value.
_PLACEHOLDER = re.compile(r"(?i)passwords?|passwd|pwd|pass|secrets?|tokens?|x{3,}|\*+|.*(?:\.\.\.|…).*")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SUFFIX = re.compile(r"\.\w{1,10}")


@dataclass(frozen=True)
class Detected:
    """One place a secret value occurs: line (1-based) of the scanned text, kind, the value."""

    line: int
    kind: str
    value: str

    @property
    def masked(self) -> str:
        return mask(self.value)


@dataclass(frozen=True)
class Finding:
    """A secret in a cell: moved to ``variable``, or refused (``variable`` None) because of ``where``."""

    line: int
    kind: str
    masked: str
    variable: str | None = None
    where: str = ""

    @property
    def moved(self) -> bool:
        return self.variable is not None

    def describe(self) -> str:
        if self.moved:
            return (f"line {self.line}: {self.kind} {self.masked} "
                    f"now comes from the environment variable {self.variable}")
        return f"line {self.line}: {self.kind} {self.masked} {self.where}"


def mask(value: str) -> str:
    """At most four characters of ``value``, fewer the shorter it is: ``sk-proj-…9Xy`` -> ``sk…Xy``."""
    if len(value) >= 16:
        return f"{value[:2]}…{value[-2:]}"
    if len(value) >= 8:
        return f"{value[0]}…{value[-1]}"
    return "…"


# -- finding -----------------------------------------------------------------------------------------


def _config() -> dict[str, object]:
    own = Path(__file__).with_name("secret_plugins.py").resolve()
    return {
        "filters_used": [{"path": f"detect_secrets.filters.{name}"} for name in _FILTERS],
        "plugins_used": [
            *({"name": name} for name in _PLUGINS),
            {"name": "Base64HighEntropyString", "limit": BASE64_ENTROPY_LIMIT},
            *({"name": name, "path": f"file://{own}"} for name in _OWN_PLUGINS),
        ],
    }


Scan = Callable[[str, str], list[Detected]]


@contextlib.contextmanager
def scanner(within: str = "") -> Iterator[Scan]:
    """``scan(text, suffix)`` for many texts under one detect-secrets configuration.

    detect-secrets scans files, so each text is written to a scratch file whose suffix (``.py`` for
    a cell, the member's own for an artifact) picks its file-type rules, as it would for the real file.
    ``within``, when given, holds every text that will be scanned (a notebook's cells joined): the
    prefilter is narrowed to it once, so that each text is then narrowed among far fewer patterns.
    """
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    numbers = itertools.count()
    prefilter = _configured_prefilter()
    if within:
        prefilter = prefilter.narrowed(within)
    seen: dict[str, bool] = {}  # line -> might hold one (lines repeat: blank ones, plt.show(), ...)

    def might_hold(line: str, prefilter: Callable[[str], bool]) -> bool:
        found = seen.get(line)
        if found is None:
            if len(seen) > 100_000:  # the members of a large artifact: keep the memory bounded
                seen.clear()
            found = seen[line] = prefilter(line)
        return found

    with contextlib.ExitStack() as stack:
        scratch = ""  # set up for the first text that has a line to hand to detect-secrets

        def scan(text: str, suffix: str = ".py") -> list[Detected]:
            nonlocal scratch
            lines = _NEWLINE.split(text)
            narrowed = prefilter.narrowed(text)
            candidates = [number for number, line in enumerate(lines, 1) if might_hold(line, narrowed)]
            if not candidates:
                return []
            if not scratch:
                scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="mlpack-secrets-"))
                stack.enter_context(transient_settings(_config()))
            path = Path(scratch) / (str(next(numbers)) + (suffix if _SUFFIX.fullmatch(suffix) else ""))
            path.write_text("\n".join(lines[n - 1] for n in candidates) + "\n", encoding="utf-8",
                            errors="surrogateescape")
            try:
                collection = SecretsCollection()
                collection.scan_file(str(path))
                found = [
                    (candidates[secret.line_number - 1], secret.type, secret.secret_value)
                    for _, secret in collection if 0 < secret.line_number <= len(candidates)
                ]
            finally:
                path.unlink()
            return _occurrences(lines, found, path.name)

        yield scan


@functools.lru_cache(maxsize=1)
def _configured_prefilter() -> _Prefilter:
    """:func:`_prefilter` for the configuration of :func:`_config`, which never changes: made once."""
    from detect_secrets.settings import transient_settings

    with transient_settings(_config()):
        return _prefilter()


def _prefilter() -> _Prefilter:
    """Whether a line could hold anything a configured plugin finds, from the plugins' own patterns.

    detect-secrets costs about half a millisecond a line (each plugin is called through its
    dependency injection); these compiled patterns cost a few microseconds, and most lines of code
    match none of them. Only the lines that match are handed to detect-secrets (the allowlist
    pragma is checked afterwards, on the whole text, so it keeps its context).
    """
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector
    from detect_secrets.settings import get_plugins

    patterns: list[re.Pattern[str]] = []
    for plugin in get_plugins():
        if isinstance(plugin, RegexBasedDetector):
            patterns.extend(plugin.denylist)
        elif isinstance(plugin, HighEntropyStringsPlugin):  # too short a string cannot reach the limit
            shortest = max(1, math.ceil(2 ** plugin.entropy_limit))
            patterns.append(re.compile(rf"""(['"])[{re.escape(plugin.charset)}]{{{shortest},}}\1"""))
        elif isinstance(plugin, KeywordDetector):
            patterns.append(re.compile("|".join(DENYLIST), re.IGNORECASE))
        else:  # a plugin of unknown shape: every line goes to detect-secrets
            return _Prefilter([], every_line=True)
    return _Prefilter.of(patterns)


_Required = tuple[list[list[str]], bool]  # see _required_words
_Read = tuple[re.Pattern[str], _Required | None]  # a pattern, and the words its matches hold (None: unknown)


class _Prefilter:
    """Whether a line could hold a secret: whether any of the plugins' patterns matches it.

    Most patterns cannot match anywhere in a given text: each match holds one of a few literal
    words (``AKIA`` or ``ASIA``, ``ghp_``, ``key`` or ``token``, ...), read off the pattern's
    own parse, and none of them is in the text. :meth:`narrowed` leaves those patterns out of the
    search of the text's lines (a regular expression search costs about a microsecond a line).
    """

    def __init__(self, patterns: list[_Read], *, every_line: bool = False) -> None:
        self.every_line = every_line
        self.patterns = patterns

    @classmethod
    def of(cls, patterns: list[re.Pattern[str]]) -> _Prefilter:
        """The prefilter of these patterns, with the words read off each."""
        return cls([(pattern, _required_words(pattern)) for pattern in patterns])

    def __call__(self, line: str) -> bool:
        if self.every_line:
            return bool(line.strip())
        for pattern, _ in self.patterns:  # (a plain loop: no generator frame per line)
            if pattern.search(line):
                return True
        return False

    def narrowed(self, text: str) -> _Prefilter:
        """The same answer as this prefilter's for each line of ``text`` (and of any part of it, so
        that a prefilter narrowed to a notebook can be narrowed again to each of its cells)."""
        if self.every_line:
            return self
        folded = text.lower() if text.isascii() else None
        return _Prefilter([(pattern, required) for pattern, required in self.patterns
                           if _may_occur(required, text, folded)])


def _may_occur(required: _Required | None, text: str, folded: str | None) -> bool:
    """Whether ``text`` holds a word of each list of ``required`` (see :func:`_required_words`);
    ``folded`` is the text lower-cased, None when it is not ASCII, where re's case rules go beyond
    str.lower(): then a pattern that ignores case may always occur."""
    if required is None:
        return True
    words, ignore_case = required
    if ignore_case:
        if folded is None:
            return True
        text = folded
    contains = text.__contains__  # (map over a bound method: no generator frame per word)
    for factor in words:
        if not any(map(contains, factor)):
            return False
    return True


def _required_words(pattern: re.Pattern[str]) -> _Required | None:
    """Lists of words such that every match of ``pattern`` holds a word of each list (lower-cased
    when the pattern ignores case: the bool), read off its parse; None when none can be."""
    source = pattern.pattern
    allowed = re.UNICODE | re.ASCII | re.IGNORECASE | re.VERBOSE | re.MULTILINE | re.DOTALL
    if not isinstance(source, str) or pattern.flags & ~allowed:
        return None
    try:
        if sys.version_info >= (3, 11):
            from re import _parser as parser  # type: ignore[attr-defined]
        else:  # pragma: no cover - Python 3.10
            import sre_parse as parser
        ignore_case = bool(pattern.flags & re.IGNORECASE)
        factors = _factors(list(parser.parse(source, pattern.flags).data), ignore_case)
    except Exception:  # noqa: BLE001 - the parser is re's private one: anything unexpected means "no words"
        return None
    factors = [factor for factor in factors if all(word.isascii() for word in factor)]
    return (factors, ignore_case) if factors else None


def _factors(items: list[tuple[Any, Any]], ignore_case: bool) -> list[list[str]]:
    """For a parsed sequence: lists of words, a match of the sequence holding a word of each (runs
    of literal characters, and what groups, branches and repeats that must occur hold)."""
    factors: list[list[str]] = []
    run: list[str] = []

    def letter(code: int) -> str:
        return chr(code).lower() if ignore_case else chr(code)

    for op, argument in [*items, (None, None)]:
        kind = getattr(op, "name", str(op))
        if kind == "LITERAL" and argument < 128:
            run.append(letter(argument))
            continue
        if run:
            factors.append(["".join(run)])
            run = []
        if kind == "SUBPATTERN":
            _, add_flags, del_flags, inner = argument
            if add_flags or del_flags:
                raise ValueError("scoped flags")
            factors.extend(_factors(list(inner), ignore_case))
        elif kind == "ATOMIC_GROUP":
            factors.extend(_factors(list(argument), ignore_case))
        elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and argument[0] >= 1:
            factors.extend(_factors(list(argument[2]), ignore_case))
        elif kind == "BRANCH":
            words: list[str] = []
            for branch in argument[1]:
                found = _factors(list(branch), ignore_case)
                if not found:
                    break
                words.extend(max(found, key=lambda factor: min(map(len, factor))))
            else:
                factors.append(words)
        elif kind == "IN" and len(argument) <= 4 and all(getattr(o, "name", str(o)) == "LITERAL" for o, _ in argument):
            factors.append([letter(code) for _, code in argument])
    # (anything else, an assertion, a class, a back-reference, holds no word that must occur; nor
    # is a letter outside ASCII taken: re's rules for its case go beyond str.lower())
    return [_fewest(factor) for factor in factors if factor and all(factor)]


def _fewest(words: list[str]) -> list[str]:
    """The words without those that hold another of them (which is then in the text too)."""
    unique = sorted(set(words), key=lambda word: (len(word), word))
    kept: list[str] = []
    for word in unique:
        if not any(shorter in word for shorter in kept):
            kept.append(word)
    return kept


def detect(text: str, suffix: str = ".py") -> list[Detected]:
    """Every place a secret occurs in ``text`` (one detect-secrets run; batch with :func:`scanner`)."""
    with scanner() as scan:
        return scan(text, suffix)


def _occurrences(lines: list[str], found: Iterable[tuple[int, str, str | None]], filename: str) -> list[Detected]:
    """Each line where a found value occurs and that no pragma allowlists, with the clearest kind.

    detect-secrets reports a value once per file and some plugins report only a token's prefix
    (``ghp``); the value is widened to the whole token on its line, then looked for on every line.
    """
    from detect_secrets.filters.allowlist import is_line_allowlisted
    from detect_secrets.util.code_snippet import get_code_snippet

    kinds: dict[str, str] = {}
    first_lines: dict[str, set[int]] = {}
    for number, kind, value in found:
        if not value or not 0 < number <= len(lines):
            continue
        value = _widen(lines[number - 1], value)
        if kind == "Secret Keyword" and _ENV_NAME.fullmatch(value) or _PLACEHOLDER.fullmatch(value):
            continue  # a variable's name given as a keyword value, or a documentation placeholder
        first_lines.setdefault(value, set()).add(number)
        if value not in kinds or _rank(kind) < _rank(kinds[value]):
            kinds[value] = kind
    detected: dict[tuple[int, str], Detected] = {}
    for value, kind in kinds.items():
        pattern = _bounded(value)
        where = range(1, len(lines) + 1) if is_token_like(value) else sorted(first_lines[value])
        for number in where:
            line = lines[number - 1]
            if not pattern.search(line) or (number, value) in detected:
                continue
            if is_line_allowlisted(filename, line, get_code_snippet(lines, number)):
                continue
            detected[(number, value)] = Detected(number, kind, value)
    return sorted(detected.values(), key=lambda d: (d.line, d.value))


def is_token_like(value: str) -> bool:
    """Random enough to be looked for everywhere: a word such as ``password`` is only found where
    detect-secrets found it (the same word elsewhere is no leak of it)."""
    classes = sum(any(test(c) for c in value) for test in (str.islower, str.isupper, str.isdigit))
    return len(value) >= 12 and classes >= 2 and not any(c.isspace() for c in value)


def _rank(kind: str) -> int:
    """detect-secrets' own specific kinds first, then ours, then the vague ones."""
    return 2 if kind in _VAGUE else 1 if kind in _OWN_KINDS else 0


def _widen(line: str, value: str) -> str:
    """The whole token around ``value`` on ``line`` ("=" pads only its end, "." only joins its parts)."""
    start = line.find(value)
    if start < 0:
        return value
    before = re.search(rf"[{_TOKEN_CHARS}.]*\Z", line[:start])
    after = re.compile(rf"[{_TOKEN_CHARS}.=]*").match(line, start + len(value))
    head = before.group(0).lstrip(".") if before else ""
    tail = after.group(0).rstrip(".") if after else ""
    return head + value + tail


def _bounded(value: str) -> re.Pattern[str]:
    """``value`` as a whole token: ``data`` is not found in ``dataset`` (but is in ``key=data.``)."""
    return re.compile(rf"(?<![{_TOKEN_CHARS}]){re.escape(value)}(?![{_TOKEN_CHARS}=])")


# -- moving ------------------------------------------------------------------------------------------


@dataclass
class Protected:
    source: str  # the cell's code with every movable secret moved (unchanged when nothing was found)
    findings: list[Finding]

    @property
    def refused(self) -> list[Finding]:
        return [f for f in self.findings if not f.moved]


def protect(source: str) -> Protected:
    """Find the secrets in one cell's code and move them to environment variables (see module doc)."""
    return rewrite(source, detect(source))


def rewrite(source: str, detected: Sequence[Detected]) -> Protected:
    """Move each detected secret out of ``source``; any that cannot be moved is a refused finding.

    ``source`` is the cell as written; when it holds IPython syntax that libcst cannot parse, the
    pass works on IPython's own Python translation of it (magics become ``get_ipython()`` calls,
    which :func:`mlpack_cli.notebook.ipython.parse_cell` handles like the magics themselves) and
    returns that translation.
    """
    if not detected:
        return Protected(source, [])
    import libcst as cst

    code = source
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError:
        from mlpack_cli.notebook.ipython import to_python

        code = to_python(source)
        try:
            module = cst.parse_module(code)
        except cst.ParserSyntaxError:
            return Protected(source, _refuse_all(detected, "in a cell mlpack cannot parse"))
        if _line_count(code) != _line_count(source):
            return Protected(source, _refuse_all(detected, "in a cell that a cell magic (%%...) wraps"))
    return _move(module, detected, source)


def _line_count(text: str) -> int:
    return len(_NEWLINE.split(text.rstrip("\r\n")))


def _refuse_all(detected: Sequence[Detected], where: str) -> list[Finding]:
    return [Finding(d.line, d.kind, d.masked, where=where) for d in detected]


def _move(module: cst.Module, detected: Sequence[Detected], source: str) -> Protected:
    import libcst as cst
    from libcst.metadata import MetadataWrapper

    wrapper = MetadataWrapper(module)
    mover = _Mover({d.value for d in detected}, _imports_os(module))
    moved_module = wrapper.visit(mover)
    findings: list[Finding] = []
    for item in detected:
        statement = next((s for s in mover.movable if s.first <= item.line <= s.last and item.value in s.values), None)
        if statement is not None:
            findings.append(Finding(item.line, item.kind, item.masked, variable=statement.variable))
        else:
            findings.append(Finding(item.line, item.kind, item.masked, where=mover.where(item)))
    if any(not f.moved for f in findings):
        return Protected(source, findings)
    assert isinstance(moved_module, cst.Module)
    new = moved_module.code
    left = [d for d in detected if is_token_like(d.value) and _bounded(d.value).search(new)]
    if left:  # a value also outside the statement that held it (say, in a comment on that line)
        lines = _NEWLINE.split(source)
        return Protected(source, [
            replace(f, variable=None, where=_outside(lines, d)) if d in left else f
            for f, d in zip(findings, detected)
        ])
    return Protected(new, findings)


def _outside(lines: list[str], item: Detected) -> str:
    line = lines[item.line - 1] if 0 < item.line <= len(lines) else ""
    if "#" in line and _bounded(item.value).search(line[line.index("#"):]):
        return "in a comment (remove it from the comment)"
    return "outside the assignment that could be moved"


@dataclass
class _Movable:
    first: int
    last: int
    values: set[str]
    variable: str


@dataclass
class _Literal:
    first: int
    last: int
    code: str
    where: str


def _imports_os(module: cst.Module) -> bool:
    import libcst as cst
    import libcst.matchers as m

    return any(
        m.matches(statement, m.SimpleStatementLine(body=[m.Import(names=[m.ImportAlias(m.Name("os"), asname=None)])]))
        for statement in module.body if isinstance(statement, cst.SimpleStatementLine)
    )


def _is_whole_secret(text: str, secrets: set[str]) -> bool:
    """Whether the string is the secret alone (or a PEM block), not a URL or a header holding one."""
    return text.strip() in secrets or text.lstrip().startswith("-----BEGIN")


def _environ_key(node: cst.BaseExpression) -> str | None:
    """``"NAME"`` of ``os.environ["NAME"]``; None for anything else."""
    import libcst as cst
    import libcst.matchers as m

    if not m.matches(node, m.Subscript(value=m.Attribute(value=m.Name("os"), attr=m.Name("environ")))):
        return None
    assert isinstance(node, cst.Subscript)
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return _text(node.slice[0].slice.value)


def _text(node: cst.BaseExpression) -> str | None:
    """The value of a plain (not f-, not bytes) string literal, else None."""
    import libcst as cst

    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


@functools.lru_cache(maxsize=1)
def _mover_class() -> type:
    """The libcst transformer, defined on first use so that importing this module loads no libcst."""
    import libcst as cst
    import libcst.matchers as m
    from libcst.metadata import ParentNodeProvider, PositionProvider

    class Mover(cst.CSTTransformer):
        METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

        def __init__(self, values: set[str], imports_os: bool) -> None:
            super().__init__()
            self.patterns = {value: _bounded(value) for value in values}
            self.import_needed = not imports_os
            self.movable: list[_Movable] = []
            self.literals: list[_Literal] = []
            self.comments: list[tuple[int, str]] = []

        # what holds each secret ----------------------------------------------------------------

        def _span(self, node: cst.CSTNode) -> tuple[int, int]:
            position = self.get_metadata(PositionProvider, node)
            return position.start.line, position.end.line

        def _secrets_in(self, code: str) -> set[str]:
            return {value for value, pattern in self.patterns.items() if pattern.search(code)}

        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            self._literal(node)

        def visit_FormattedString(self, node: cst.FormattedString) -> None:
            self._literal(node)

        def visit_Comment(self, node: cst.Comment) -> None:
            self.comments.append((self._span(node)[0], node.value))

        def _literal(self, node: cst.SimpleString | cst.FormattedString) -> None:
            code = cst.Module([]).code_for_node(node)
            secrets = self._secrets_in(code)
            if secrets:
                first, last = self._span(node)
                where = self._context(node)
                text = node.evaluated_value if isinstance(node, cst.SimpleString) else None
                if where.startswith("not assigned") and isinstance(text, str) and not _is_whole_secret(text, secrets):
                    where = "in a longer string such as a URL (only a string that is the secret alone can be moved)"
                self.literals.append(_Literal(first, last, code, where))

        def _context(self, node: cst.CSTNode) -> str:
            inside_fstring = isinstance(node, cst.FormattedString)
            current: cst.CSTNode = node
            while True:
                parent = self.get_metadata(ParentNodeProvider, current, None)
                if parent is None or isinstance(parent, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                    break
                if isinstance(parent, cst.FormattedString):
                    inside_fstring = True
                if isinstance(parent, cst.Call):
                    function = cst.Module([]).code_for_node(parent.func)
                    if function.startswith("get_ipython()"):
                        return "in an IPython magic or shell command (set the variable in the environment instead)"
                    shown = function if len(function) <= 40 else function[:37] + "..."
                    return f"passed to {shown}()" + (" in an f-string" if inside_fstring else "")
                if isinstance(parent, cst.Dict):
                    return "in a dict"
                if isinstance(parent, cst.Comparison):  # if password == "...": a credential checked in code
                    return "in a comparison (compare with a value read from the environment instead)"
                if isinstance(parent, (cst.List, cst.Tuple, cst.Set)):
                    return "in a list, tuple or set"
                current = parent
            if inside_fstring:
                return "in an f-string"
            if isinstance(parent, cst.SimpleStatementSuite) or (
                isinstance(parent, cst.SimpleStatementLine) and len(parent.body) > 1
            ):
                return "on a line with other statements (give the assignment a line of its own)"
            return "not assigned to a plain name (only NAME = \"...\" can be moved)"

        def where(self, item: Detected) -> str:
            pattern = _bounded(item.value)
            for literal in self.literals:
                if literal.first <= item.line <= literal.last and pattern.search(literal.code):
                    return literal.where
            if any(line == item.line and pattern.search(text) for line, text in self.comments):
                return "in a comment (remove it from the comment)"
            return "in code mlpack cannot rewrite"

        # the rewrite -----------------------------------------------------------------------------

        def leave_SimpleStatementLine(
            self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
        ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
            if len(original.body) != 1:
                return updated
            target = self._target(original.body[0])
            if target is None:
                return updated
            variable, value, keep = target
            secrets = self._secrets_in(cst.Module([]).code_for_node(value))
            if not secrets or not _is_whole_secret(_text(value) or "", secrets):
                return updated
            first, last = self._span(original)
            self.movable.append(_Movable(first, last, secrets, variable))
            config = cst.PartialParserConfig(default_indent="    ")
            guard = cst.parse_statement(
                f"if {py_string(variable)} not in os.environ:\n"
                f"    raise RuntimeError({py_string(GUARD_MESSAGE.format(name=variable))})\n",
                config,
            )
            # Blank lines above stay above, comments above stay with the check (the import moves away).
            leading = list(original.leading_lines)
            first_comment = next((i for i, line in enumerate(leading) if line.comment), len(leading))
            statements: list[cst.BaseStatement] = []
            if self.import_needed:
                self.import_needed = False
                statements.append(cst.parse_statement("import os\n", config).with_changes(
                    leading_lines=leading[:first_comment]))
                leading = leading[first_comment:]
            statements.append(guard.with_changes(leading_lines=leading))
            if keep:
                lookup = cst.parse_expression(f"os.environ[{py_string(variable)}]")
                statement = updated.body[0]
                assert isinstance(statement, (cst.Assign, cst.AnnAssign))
                statements.append(updated.with_changes(body=[statement.with_changes(value=lookup)], leading_lines=()))
            return cst.FlattenSentinel(statements)

        @staticmethod
        def _target(statement: cst.BaseSmallStatement) -> tuple[str, cst.BaseExpression, bool] | None:
            """(environment variable, the secret's expression, keep the assignment) of a movable one."""
            if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
                target = statement.targets[0].target
                if _text(statement.value) is None:
                    return None
                if isinstance(target, cst.Name):
                    return target.value.upper(), statement.value, True
                key = _environ_key(target)
                return (key, statement.value, False) if key else None
            if isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name):
                if statement.value is not None and _text(statement.value) is not None:
                    return statement.target.value.upper(), statement.value, True
                return None
            setdefault = m.Expr(value=m.Call(func=m.Attribute(
                value=m.Attribute(value=m.Name("os"), attr=m.Name("environ")), attr=m.Name("setdefault"))))
            if m.matches(statement, setdefault):
                assert isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call)
                args = statement.value.args
                if len(args) == 2 and not any(a.keyword or a.star for a in args):
                    key, value = _text(args[0].value), args[1].value
                    if key and _text(value) is not None:
                        return key, value, False
            return None

    return Mover


def _Mover(values: set[str], imports_os: bool) -> Any:  # noqa: N802 - a class factory
    return _mover_class()(values, imports_os)


# -- cells of a notebook -----------------------------------------------------------------------------


def protect_cells(cells: Sequence[Cell], display: str) -> tuple[list[Cell], list[str]]:
    """The code cells with their secrets moved, and one report warning per secret moved.

    One detect-secrets run covers the whole notebook. A secret that cannot be moved refuses the
    notebook with a :class:`NotebookError` that names cell, line and the masked value.
    """
    code = [cell for cell in cells if cell.kind == "code" and cell.source.strip()]
    prose = [cell for cell in cells if cell.kind != "code" and cell.source.strip()]
    if not code and not prose:
        return list(cells), []
    with scanner(within="\n".join(cell.source for cell in [*code, *prose])) as scan:
        found = {cell.number: scan(cell.source, ".py") for cell in code}
        in_prose = {cell.number: scan(cell.source, ".md") for cell in prose}
    cleaned: dict[int, Cell] = {}
    warnings: list[str] = []
    masked: list[str] = []
    for cell in prose:  # markdown becomes docstrings: a secret there is masked, the text kept
        source = cell.source
        for item in in_prose[cell.number]:
            source = source.replace(item.value, item.masked)
            masked.append(f"cell {cell.number}, line {item.line}: {item.kind} {item.masked} in the text was "
                          "masked in the module: remove it from the notebook, and rotate it if it is real")
        if source != cell.source:
            cleaned[cell.number] = replace(cell, source=source)
    refused: list[str] = []
    sources: dict[str, tuple[str, int]] = {}  # variable -> (the value it stands for, its first cell)
    for cell in code:
        if not found[cell.number]:
            continue
        result = rewrite(cell.source, found[cell.number])
        for finding, item in zip(result.findings, found[cell.number]):
            value, first = sources.setdefault(finding.variable or "", (item.value, cell.number))
            if finding.variable and value != item.value:
                finding = replace(finding, variable=None, where=(
                    f"would share the environment variable {finding.variable} with another secret "
                    f"(cell {first}): rename one of the two names"))
            (warnings if finding.moved else refused).append(f"cell {cell.number}, {finding.describe()}")
        cleaned[cell.number] = replace(cell, source=result.source)
    if refused:
        raise NotebookError(
            f"{display}: holds a secret mlpack will not write into the module:\n"
            + "\n".join(f"  {line}" for line in refused),
            hint=(
                'Read it from an environment variable instead (a plain NAME = "..." line is moved there for '
                "you), or, if it is no secret, end its line with `# pragma: allowlist secret`."
            ),
        )
    warnings = [f"{w}: set it where the module runs" for w in warnings] + masked
    return [cleaned.get(cell.number, cell) for cell in cells], warnings


# -- the generated tests -----------------------------------------------------------------------------


def environment_variables(statements: Iterable[ast.AST]) -> list[str]:
    """The variables that moved secrets are read from, found by the checks :func:`protect` writes."""
    from mlpack_cli.notebook.statements import walk_statements

    names: list[str] = []
    for statement in statements:
        for node in walk_statements(statement):
            if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and len(node.body) == 1):
                continue
            test, body = node.test, node.body[0]
            if not (
                isinstance(test.left, ast.Constant) and isinstance(test.left.value, str)
                and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn)
                and ast.unparse(test.comparators[0]) == "os.environ"
                and isinstance(body, ast.Raise) and isinstance(body.exc, ast.Call) and body.exc.args
                and isinstance(body.exc.args[0], ast.Constant)
                and str(body.exc.args[0].value).startswith(_GUARD_PREFIX)
            ):
                continue
            if test.left.value not in names:
                names.append(test.left.value)
    return sorted(names)
