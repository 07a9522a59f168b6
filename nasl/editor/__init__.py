"""Editor tooling for ``.nas`` files: the formatter (``nasl fmt``), ``nasl explain``,
a Pygments lexer and (in ``editors/``) a TextMate grammar."""
