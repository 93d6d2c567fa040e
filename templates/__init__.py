"""Package data of mlpack_cli: the jinja2 templates, loaded with importlib.resources."""
