"""What mlpack knows offline about distributions: which one an import name comes from, and which
release of the common scientific packages was the last to support an older Python.

Both tables are maintained by hand, so that ``convert`` never needs the network. No library on
PyPI maintains the import-name table in a form worth depending on (pipreqs' ``mapping`` file is
the best known, but pipreqs' last release is from 2024 and it brings a notebook stack with it), so
the common machine-learning and data packages are listed here; installed distributions are still
asked first (:func:`importlib.metadata.packages_distributions`).

:data:`LAST_RELEASE_FOR_PYTHON` comes from PyPI: for each package, the newest release whose
``Requires-Python`` (and wheels) admit that Python, as ``pip index versions NAME --python-version
3.N --only-binary=:all:`` reports it. A package that drops a Python needs one new line here.
"""

from __future__ import annotations

# Import name (a top-level module, or a dotted one where a namespace package is shared) ->
# distribution. Only names that differ from their distribution, or that are too common to guess
# wrong, are listed; keep it sorted.
IMPORT_NAMES: dict[str, str] = {
    "Bio": "biopython",
    "Crypto": "pycryptodome",
    "Cryptodome": "pycryptodomex",
    "IPython": "ipython",
    "Levenshtein": "levenshtein",
    "OpenSSL": "pyopenssl",
    "PIL": "pillow",
    "accelerate": "accelerate",
    "albumentations": "albumentations",
    "attr": "attrs",
    "azure.storage.blob": "azure-storage-blob",
    "boto3": "boto3",
    "bs4": "beautifulsoup4",
    "catboost": "catboost",
    "cv2": "opencv-python",
    "datasets": "datasets",
    "dateutil": "python-dateutil",
    "diffusers": "diffusers",
    "docx": "python-docx",
    "dotenv": "python-dotenv",
    "evaluate": "evaluate",
    "faiss": "faiss-cpu",
    "fitz": "pymupdf",
    "gensim": "gensim",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "google.cloud.storage": "google-cloud-storage",
    "google.generativeai": "google-generativeai",
    "google.protobuf": "protobuf",
    "gym": "gym",
    "gymnasium": "gymnasium",
    "h5py": "h5py",
    "huggingface_hub": "huggingface-hub",
    "imblearn": "imbalanced-learn",
    "jax": "jax",
    "joblib": "joblib",
    "jwt": "pyjwt",
    "keras": "keras",
    "langchain": "langchain",
    "lightgbm": "lightgbm",
    "magic": "python-magic",
    "matplotlib": "matplotlib",
    "mlflow": "mlflow",
    "mpl_toolkits": "matplotlib",
    "networkx": "networkx",
    "nltk": "nltk",
    "numpy": "numpy",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "openai": "openai",
    "optuna": "optuna",
    "pandas": "pandas",
    "peft": "peft",
    "plotly": "plotly",
    "polars": "polars",
    "psycopg2": "psycopg2-binary",
    "pyarrow": "pyarrow",
    "pydantic": "pydantic",
    "pytorch_lightning": "pytorch-lightning",
    "ray": "ray",
    "requests": "requests",
    "scipy": "scipy",
    "seaborn": "seaborn",
    "sentence_transformers": "sentence-transformers",
    "sentencepiece": "sentencepiece",
    "shap": "shap",
    "skimage": "scikit-image",
    "sklearn": "scikit-learn",
    "spacy": "spacy",
    "sqlalchemy": "sqlalchemy",
    "statsmodels": "statsmodels",
    "tensorflow": "tensorflow",
    "tensorflow_datasets": "tensorflow-datasets",
    "tensorflow_hub": "tensorflow-hub",
    "tf_keras": "tf-keras",
    "timm": "timm",
    "tokenizers": "tokenizers",
    "torch": "torch",
    "torchaudio": "torchaudio",
    "torchmetrics": "torchmetrics",
    "torchtext": "torchtext",
    "torchvision": "torchvision",
    "tqdm": "tqdm",
    "transformers": "transformers",
    "wandb": "wandb",
    "xgboost": "xgboost",
    "yaml": "pyyaml",
}

# Modules that exist only inside a notebook environment: never declared as dependencies.
NOTEBOOK_ONLY: frozenset[str] = frozenset({"google.colab"})

# distribution -> {Python minor version: the last major.minor release that supports it}.
# Only Pythons the package has dropped are listed (see the module docstring for the source).
LAST_RELEASE_FOR_PYTHON: dict[str, dict[int, str]] = {
    "matplotlib": {9: "3.9", 10: "3.10"},
    "numpy": {9: "2.0", 10: "2.2"},
    "pandas": {9: "2.3", 10: "2.3"},
    "pillow": {9: "11.3", 10: "12.3"},
    "python-dateutil": {9: "3.0", 10: "3.0"},
    "scikit-learn": {9: "1.6", 10: "1.7"},
    "scipy": {9: "1.13", 10: "1.15"},
}


def distribution_for(module: str) -> str | None:
    """The distribution of a dotted ``module`` from :data:`IMPORT_NAMES`: the longest listed prefix."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = IMPORT_NAMES.get(".".join(parts[:end]))
        if found is not None:
            return found
    return None


def notebook_only(module: str) -> str | None:
    """``google.colab`` for it and its submodules, which exist only in the notebook's environment."""
    return next((name for name in sorted(NOTEBOOK_ONLY) if module == name or module.startswith(name + ".")), None)


def last_release_for(distribution: str, python_minor: int) -> str | None:
    """The last ``major.minor`` of ``distribution`` supporting Python 3.``python_minor``, when known."""
    return LAST_RELEASE_FOR_PYTHON.get(distribution, {}).get(python_minor)
