"""Map the generated code's imports to the distributions that provide them.

What is installed is asked of ``importlib.metadata.packages_distributions()``; common ML packages
whose import name differs from their distribution name are in :data:`ALIASES`, so they resolve even
when not installed here. The standard library is excluded; imports that resolve to neither (local
modules, often reached through ``sys.path`` tricks) are reported, not declared.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mlpack_cli.notebook.names import walk

# import name -> distribution name (maintained by hand; keep sorted)
ALIASES: dict[str, str] = {
    "Bio": "biopython",
    "Crypto": "pycryptodome",
    "IPython": "ipython",
    "OpenSSL": "pyopenssl",
    "PIL": "pillow",
    "attr": "attrs",
    "bs4": "beautifulsoup4",
    "catboost": "catboost",
    "cv2": "opencv-python",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "gensim": "gensim",
    "google.protobuf": "protobuf",
    "jwt": "pyjwt",
    "keras": "keras",
    "lightgbm": "lightgbm",
    "magic": "python-magic",
    "matplotlib": "matplotlib",
    "mpl_toolkits": "matplotlib",
    "nltk": "nltk",
    "numpy": "numpy",
    "pandas": "pandas",
    "plotly": "plotly",
    "psycopg2": "psycopg2-binary",
    "pytorch_lightning": "pytorch-lightning",
    "scipy": "scipy",
    "seaborn": "seaborn",
    "sentencepiece": "sentencepiece",
    "skimage": "scikit-image",
    "sklearn": "scikit-learn",
    "statsmodels": "statsmodels",
    "tensorflow": "tensorflow",
    "tf_keras": "tf-keras",
    "torch": "torch",
    "torchaudio": "torchaudio",
    "torchtext": "torchtext",
    "torchvision": "torchvision",
    "tqdm": "tqdm",
    "transformers": "transformers",
    "xgboost": "xgboost",
    "yaml": "pyyaml",
}


@dataclass
class Dependencies:
    requirements: dict[str, str] = field(default_factory=dict)  # distribution -> requirement string
    local: list[str] = field(default_factory=list)  # imports that are the project's or the notebook's own
    unresolved: list[str] = field(default_factory=list)  # not installed and not in the alias table


def top_level_imports(tree: ast.AST) -> list[str]:
    """Absolute imports' top-level module names, sorted, without ``__future__``."""
    names: set[str] = set()
    for node in walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    names.discard("__future__")
    return sorted(names)


@functools.lru_cache(maxsize=1)
def _installed() -> Mapping[str, list[str]]:
    """Top-level import name -> distributions that provide it.

    ``packages_distributions()`` of Python 3.10 reads only ``top_level.txt``, which wheels built by
    flit, hatchling or pdm (Jinja2, for one) do not have; for those, the names are inferred from the
    installed files, as Python 3.11 does.
    """
    from importlib.metadata import distributions, packages_distributions

    found = packages_distributions()
    if sys.version_info >= (3, 11):
        return found
    mapping = {name: list(dists) for name, dists in found.items()}
    for dist in distributions():
        if dist.read_text("top_level.txt") is not None:
            continue
        name = dist.metadata["Name"]
        for path in dist.files or []:
            top = path.parts[0] if len(path.parts) > 1 else path.name
            top = top[:-3] if top.endswith(".py") else top
            if top.isidentifier() and not top.endswith((".dist-info", ".egg-info")) and name:
                mapping.setdefault(top, [])
                if name not in mapping[top]:
                    mapping[top].append(name)
    return mapping


@functools.lru_cache(maxsize=None)  # what is installed is read once per process, as _installed() is
def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def lower_bound(distribution: str) -> str:
    """``name>=X.Y`` from the installed version, or the bare name when it is not installed."""
    from packaging.version import InvalidVersion, Version

    installed = _version(distribution)
    if installed is None:
        return distribution
    try:
        release = Version(installed).release
    except InvalidVersion:
        return distribution
    return f"{distribution}>={'.'.join(str(part) for part in release[:2])}"


def resolve(modules: Iterable[str], local_names: Iterable[str], own_package: str) -> Dependencies:
    """Distributions for ``modules``; ``local_names`` are modules found beside the notebook or in the project."""
    result = Dependencies()
    local = set(local_names) | {own_package}
    installed = _installed()
    for module in sorted(set(modules)):
        if module in sys.stdlib_module_names or module in sys.builtin_module_names:
            continue
        if module == own_package:
            continue
        if module in local:
            result.local.append(module)
            continue
        distribution = ALIASES.get(module)
        if distribution is None and module in installed:
            distribution = sorted(installed[module])[0]
        if distribution is None:
            result.unresolved.append(module)
            continue
        key = _canonical(distribution)
        result.requirements.setdefault(key, key + lower_bound(distribution)[len(distribution):])
    return result


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def merge_dependencies(document: object, wanted: Mapping[str, str]) -> list[str]:
    """Add ``wanted`` requirements to ``[project.dependencies]`` of a tomlkit document.

    Entries the user declared are never removed or changed; a requirement is added only when no
    requirement of that name is declared. Returns the requirement strings added.
    """
    import tomlkit
    from packaging.requirements import InvalidRequirement, Requirement

    project = document.setdefault("project", tomlkit.table())  # type: ignore[attr-defined]
    if "dependencies" in (project.get("dynamic") or []):
        return []
    if "dependencies" not in project:
        project["dependencies"] = tomlkit.array()
    array = project["dependencies"]
    declared = set()
    for item in array:
        try:
            declared.add(_canonical(Requirement(str(item)).name))
        except InvalidRequirement:
            declared.add(_canonical(str(item).split(";")[0].strip()))
    added = []
    for name in sorted(wanted):
        if _canonical(name) not in declared:
            array.append(wanted[name])
            added.append(wanted[name])
    if added and len(array) > 1:
        array.multiline(True)
    return added
