"""Read a notebook's ``pip install`` command line as pip reads it, for the requirements it names.

The line is split as a POSIX shell splits it (:mod:`shlex`), at ``&&``, ``;`` and ``|`` into
commands, with redirections (``> /dev/null``, ``2>&1``) left out; pip's general options may stand
before ``install`` (``pip -q install x``). Each remaining argument is an option (with its value,
``--opt value``, ``--opt=value`` or ``-ivalue``) or a PEP 508 requirement, read by
:class:`packaging.requirements.Requirement` (extras, version specifiers, markers). pip's own
option parser is not used: importing ``pip._internal.commands.install`` takes about half a second,
and it is not a public interface.

Values of options are never repeated in a message: an index URL may carry a password.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# Options that take a value, general and of ``pip install`` (pip 24-26).
_WITH_VALUE = {
    "--python", "--log", "--log-file", "--proxy", "--retries", "--timeout", "--exists-action", "--trusted-host",
    "--cert", "--client-cert", "--cache-dir", "--use-feature", "--use-deprecated", "--keyring-provider",
    "--requirement", "--constraint", "--editable", "--index-url", "--extra-index-url", "--find-links",
    "--target", "--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi", "--src",
    "--upgrade-strategy", "--no-binary", "--only-binary", "--progress-bar", "--root-user-action",
    "--config-settings", "--global-option", "--build-option", "--report", "--group", "--resume-retries",
}
_SHORT_WITH_VALUE = {"r": "--requirement", "c": "--constraint", "e": "--editable", "i": "--index-url",
                     "f": "--find-links", "t": "--target", "C": "--config-settings"}
_NOT_HARVESTED = {"--requirement": "-r", "--constraint": "-c", "--editable": "-e"}
_INDEX = {"--index-url", "--extra-index-url", "--find-links"}
_SEPARATORS = {"&&", "||", ";", "|", "&"}
_REDIRECT = re.compile(r"^(\d*|&)(>>?|<)")  # >, >>, 2>, 2>&1, &>, <, >/dev/null
_REDIRECT_ALONE = re.compile(r"^(\d*|&)(>>?|<)$")  # its target is the next word
# What runs pip: pip, pip3, pip3.11, python -m pip, python3 -m pip, {sys.executable} -m pip, uv pip.
_PYTHON = re.compile(r"^(?:[\w./-]*/)?python[\d.]*$|^\{sys\.executable\}$|^\$\{?\w+\}?$|^\S*python\S*\.exe$")
_PIP = re.compile(r"^(?:[\w./-]*/)?pip[\d.]*$")


@dataclass
class PipInstall:
    """What one shell line's ``pip install`` commands ask for."""

    requirements: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    found: bool = False  # the line has a ``pip install`` command


def is_pip_command(line: str) -> bool:
    """Whether a shell line runs pip (``!pip ...``, ``!python -m pip ...``), whatever its command."""
    words = _split(line)
    return bool(words) and _pip_arguments(words) is not None


def parse_shell_line(line: str) -> PipInstall:
    """The requirements of every ``pip install`` command of a shell line (``!pip -q install x``)."""
    result = PipInstall()
    for command in _commands(_split(line)):
        arguments = _pip_arguments(command)
        if arguments is not None:
            _install(arguments, result)
    return result


def parse_pip_magic(line: str) -> PipInstall:
    """The requirements of ``%pip <line>``: the line is pip's arguments, as on a shell line."""
    result = PipInstall()
    for index, command in enumerate(_commands(_split(line))):
        arguments = command if index == 0 else _pip_arguments(command)
        if arguments is not None:
            _install(arguments, result)
    return result


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:  # an unclosed quote: as IPython's shell would fail, read what is there
        return line.split()


def _commands(words: list[str]) -> list[list[str]]:
    """Words split into commands at shell separators, without redirections."""
    commands: list[list[str]] = [[]]
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _SEPARATORS:
            commands.append([])
        elif _REDIRECT.match(word):
            skip = bool(_REDIRECT_ALONE.match(word))
        else:
            commands[-1].append(word)
    return [command for command in commands if command]


def _pip_arguments(words: list[str]) -> list[str] | None:
    """The arguments after ``pip`` in one command, or None when it does not run pip."""
    if _PIP.match(words[0]):
        return words[1:]
    if len(words) >= 3 and _PYTHON.match(words[0]) and words[1] == "-m" and words[2] == "pip":
        return words[3:]
    if len(words) >= 2 and words[0] == "uv" and words[1] == "pip":
        return words[2:]
    return None


def _install(arguments: list[str], result: PipInstall) -> None:
    """``arguments`` of pip: general options, ``install``, then its options and requirements."""
    position = _skip_options(arguments, 0, result)
    if position >= len(arguments) or arguments[position] != "install":
        return
    result.found = True
    position += 1
    while position < len(arguments):
        word = arguments[position]
        if word.startswith("-"):
            position = _skip_options(arguments, position, result, one=True)
            continue
        position += 1
        _requirement(word, result)


def _skip_options(arguments: list[str], position: int, result: PipInstall, *, one: bool = False) -> int:
    """The position past the options at ``position`` (past only one with ``one``)."""
    while position < len(arguments) and arguments[position].startswith("-") and arguments[position] != "-":
        word = arguments[position]
        position += 1
        if word.startswith("--"):
            name, has_value, _ = word.partition("=")
            if name in _WITH_VALUE and not has_value:
                position += 1
            _option(name, result)
        else:
            for index, letter in enumerate(word[1:], start=1):
                if letter in _SHORT_WITH_VALUE:
                    if index == len(word) - 1:
                        position += 1  # the value is the next word
                    _option(_SHORT_WITH_VALUE[letter], result)
                    break
        if one:
            break
    return position


def _option(name: str, result: PipInstall) -> None:
    if name in _NOT_HARVESTED:
        result.warnings.append(
            f"pip install {_NOT_HARVESTED[name]} ({name}): not harvested; declare those dependencies yourself"
        )
    elif name in _INDEX:
        result.warnings.append(
            f"pip install {name}: ignored; the package index is chosen where the project is installed "
            "(pip's configuration, PIP_INDEX_URL)"
        )


def _requirement(word: str, result: PipInstall) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(word)
    except InvalidRequirement:
        if "://" in word or "@" in word:
            result.warnings.append("pip install: a URL argument is not harvested; declare it yourself as `name @ URL`")
        else:
            result.warnings.append(f"pip install: {word!r} is not a requirement (a local path?); not harvested")
        return
    if requirement.url:
        result.warnings.append(f"pip install: {requirement.name} is a URL requirement; not harvested")
        return
    result.requirements.append(str(requirement))
