"""Sphinx configuration of the cooc documentation.

Build (warnings are errors)::

    pip install ".[docs]"
    python -m sphinx -W -b html docs docs/_build/html
"""

from __future__ import annotations

import cooc

project = "cooc"
author = "cooc developers"
copyright = "cooc developers"
release = cooc.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "design-notes.md", "Thumbs.db", ".DS_Store"]

# The API pages are written by hand (one autosummary table per stage); the stub pages are generated.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": False}
autodoc_typehints = "none"          # the numpydoc "Parameters" sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

myst_heading_anchors = 3


html_theme = "alabaster"
html_title = f"cooc {release}"
html_static_path: list[str] = []


def _skip_foreign(app, what, name, obj, skip, options):  # type: ignore[no-untyped-def]
    """Leave out members the estimators inherit from scikit-learn (``score``, ``set_*_request``, ...):
    their docstrings are scikit-learn's and refer to its own documentation."""
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", "") or ""
    if module.startswith("sklearn") or qualname.startswith("RequestMethod") or name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("autodoc-skip-member", _skip_foreign)
