"""Jinja2 templates shipped as package data (``TEMPLATES`` is their folder at run time)."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent
