"""A Pygments lexer for ``.nas`` files, so that Sphinx, MkDocs and ``rich`` highlight them.

It is registered as the ``pygments.lexers`` entry point ``nasl`` (see
pyproject.toml), so ```` ```nas ```` / ```` ```nasl ```` blocks and
``pygmentize -l nasl`` pick it up once nasl is installed. The word lists
mirror the grammar (``nasl/grammars/nasl.lark``) and the built-in names; a
test keeps them in step.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

#: every keyword of the grammar except the constants
KEYWORDS = ("and", "as", "dag", "def", "edge", "elif", "else", "for", "forbid", "genotype", "if", "in", "input",
            "let", "network", "node", "not", "or", "param", "repeat", "require", "return", "where")
CONSTANTS = ("true", "false")
#: the choice forms (nasl.dsl.naming.CHOICE_FORMS): where a space's decisions are made
CHOICE_FORMS = ("choice", "optional", "boolean", "int_range", "float_range", "subset", "permutation")
#: the functions every file can call (nasl.dsl.builtins.BUILTIN_NAMES)
BUILTINS = ("abs", "connected", "edges", "enumerate", "int", "len", "list", "make_divisible", "max", "min", "nodes",
            "pick", "range", "round", "select", "uses", "zip")
DECLARING = ("param", "let", "input", "genotype")


class NaslLexer(RegexLexer):
    """The nasl language for neural-architecture search spaces."""

    name = "nasl"
    aliases = ["nasl", "nas"]
    filenames = ["*.nas"]
    mimetypes = ["text/x-nasl"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"([^"\\\n]|\\.)*"', String.Double),
            (r"'([^'\\\n]|\\.)*'", String.Single),
            # `def name`, `param name = ...`: the name being defined
            (r"(def)(\s+)([A-Za-z_][A-Za-z_0-9]*)", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (r"(%s)(\s+)([A-Za-z_][A-Za-z_0-9]*)" % "|".join(DECLARING),
             bygroups(Keyword.Declaration, Whitespace, Name.Variable)),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(("and", "or", "not", "in"), suffix=r"\b"), Operator.Word),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(CHOICE_FORMS, suffix=r"\b"), Name.Builtin),
            (words(BUILTINS, suffix=r"\b"), Name.Builtin),
            (r"[A-Za-z_][A-Za-z_0-9]*", Name),
            (r"(\d+\.\d*|\.\d+|\d+)[eE][+-]?\d+", Number.Float),
            (r"\d+\.\d*|\.\d+", Number.Float),
            (r"\d+", Number.Integer),
            (r">>|->|==|!=|<=|>=|//|[-+*/%<>=?:]", Operator),
            (r"[()\[\]{},;]", Punctuation),
            (r".", Text),                      # anything else is a syntax error; shown, not hidden
        ],
    }
