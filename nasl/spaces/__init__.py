"""Spaces that ship with nasl (package data): ``digits.nas``, the default of ``nasl search``."""
