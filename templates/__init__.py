"""Jinja2 templates shipped as package data: ``TEMPLATES`` is their folder, ``JINJA_ENV`` the one
environment every render uses (building one per host costs more than the render itself)."""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent

JINJA_ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
