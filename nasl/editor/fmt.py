"""``nasl fmt``: a pretty-printer that normalises layout and never changes meaning.

It works on the token stream, not the AST, so that every comment and the
user's choice of line breaks survive. The tokens come from the parser itself
(its contextual lexer, so ``node`` as a name is not mistaken for the
keyword), and the comments and blank lines from the text between tokens.
Within a line, spacing follows fixed rules (``a >> b``, ``f(x, k=3)``,
``c ? a : b``, ``input x: [3, 32, 32]``); each line's indentation comes from
the brackets open at its start:

- a ``{`` block indents its body by 4 from the line of its statement;
- inside ``(`` or ``[``, a line aligns after the bracket when something
  follows the bracket on its line, and hangs by 4 otherwise;
- a line that continues a statement (after a trailing ``,``, ``=``, ``>>``,
  ``?``..., or starting with an operator) keeps its offset from the
  statement's first line, at least 4.

Runs of blank lines become one. The result is checked before it is
returned: the same tokens and the same comments, or InternalError.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lark.exceptions import UnexpectedInput

from nasl.ir.errors import InternalError, NaslError

INDENT = 4
OPENERS, CLOSERS = "([{", ")]}"
# a line whose previous line ended with one of these continues that statement
_CONT_END = {"=", ",", "?", ":", "->", ">>", "+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">",
             ">=", "and", "or", "not", "in", "as", "where", "return", "require", "forbid", "for", "if",
             "elif", "repeat", "param", "let", "input", "genotype", "def", "node", "edge", "network"}
# ... and so does a line that starts with one of these (no statement can)
_CONT_START = {"=", ",", "?", ":", "->", ">>", "+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">",
               ">=", "and", "or", "in", "as", "where"}
_OPERAND_END = {"NAME", "NUMBER", "STRING", "TRUE", "FALSE", "RPAR", "RSQB", "RBRACE"}


@dataclass
class _Frame:
    """An open bracket (or the file itself): where its lines go."""
    kind: str                 # "(", "[", "{" or "" for the file
    line_indent: int          # indentation of a closer that starts a line
    content: int              # indentation of the lines inside
    visual: int | None = None  # column after a ( or [ that has something after it on its line
    questions: int = 0        # unmatched '?' at this level: the next ':' is a ternary's
    stmt: tuple = (0, 0)      # (original, new) indent of the current statement's first line
    opened_line: int = -1     # the output line a ( or [ is on
    after: int = 0            # the column just after it


@dataclass
class _Gap:
    trailing: str | None = None              # a comment after the previous token, on its line
    offset: int = 0                           # where it starts, from the end of that token
    lines: list = field(default_factory=list)  # own-line comments, and None for a blank line
    newline: bool = False                     # the next token starts a line
    indent: int = 0                           # the next token's original indentation


def _gap(text: str) -> _Gap:
    parts = text.replace("\r", "").split("\n")
    g = _Gap(newline=len(parts) > 1)
    first = parts[0].strip()
    if first:
        g.trailing, g.offset = first.rstrip(), parts[0].index("#")
    for part in parts[1:-1]:
        part = part.strip()
        g.lines.append(part or None)
    if g.newline:
        lead = parts[-1].expandtabs(INDENT)      # a tab in the indentation counts as 4 columns
        g.indent = len(lead) - len(lead.lstrip())
    return g


def tokens(text: str, file: str = "<string>", check: bool = True):
    """The parser's tokens of ``text`` (comments and whitespace left out); NaslSyntaxError if it does not parse."""
    from nasl.dsl.parser import lark_parser, syntax_error, parse
    parser = lark_parser()
    try:
        ip = parser.parse_interactive(text)
        out = list(ip.iter_parse())
        ip.feed_eof()
    except UnexpectedInput as e:
        raise syntax_error(e, text, file, parser) from None
    if check:
        parse(text, file)       # the checks the AST builder makes (e.g. a bad string escape)
    return out


def _comments(text: str, toks) -> list[str]:
    found, pos = [], 0
    for t in list(toks) + [None]:
        end = t.start_pos if t is not None else len(text)
        g = _gap(text[pos:end])
        found += ([g.trailing] if g.trailing else []) + [c for c in g.lines if c]
        pos = t.end_pos if t is not None else pos
    return found


def format_source(text: str, file: str = "<string>") -> str:
    """``text`` laid out by the rules above; NaslError when it does not parse."""
    try:
        toks = tokens(text, file)
    except NaslError as e:
        raise NaslError(f"cannot format: {e.message}; the file does not parse", e.span) from None
    out = _Layout(text, toks).run()
    again = tokens(out, file, check=False)
    if [(t.type, str(t)) for t in again] != [(t.type, str(t)) for t in toks] or \
            _comments(out, again) != _comments(text, toks):
        raise InternalError(f"nasl fmt would change the meaning of {file}; it was left as it is")
    return out


class _Layout:
    def __init__(self, text, toks):
        self.text, self.toks = text, toks
        self.lines: list[str] = []
        self.cur: list[str] | None = None      # the line being built
        self.col = 0
        self.stack = [_Frame("", 0, 0)]
        self.prev = None
        self.unary = False                      # the previous token was a unary minus

    def run(self) -> str:
        pos = 0
        for i, t in enumerate(self.toks):
            self._gap(_gap(self.text[pos:t.start_pos]), t, i)
            self._token(t, i)
            pos = t.end_pos
        g = _gap(self.text[pos:])
        self._flush(g.trailing, self._column(g))
        self._own_lines(g.lines, 0)
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n" if self.lines else ""

    # -- lines -------------------------------------------------------------------------------------
    def _flush(self, trailing=None, column=0):
        if self.cur is not None:
            line = "".join(self.cur)
            # a trailing comment keeps its column (comments aligned in a column stay so), 2 spaces at least
            pad = " " * max(column - len(line), 2)
            self.lines.append(f"{line}{pad}{trailing}" if trailing else line)
            self.cur = None
        elif trailing:                          # a comment before the first token
            self.lines.append(trailing)

    def _column(self, g: _Gap) -> int:
        """The original column of a trailing comment (0-based)."""
        return (self.prev.end_column - 1 + g.offset) if self.prev is not None and g.trailing else 0

    def _own_lines(self, lines, indent):
        for c in lines:
            if c is None:
                if self.lines and self.lines[-1] != "":
                    self.lines.append("")
            else:
                self.lines.append(" " * indent + c)

    def _gap(self, g: _Gap, t, i):
        if self.cur is not None and not g.newline:
            return
        self._flush(g.trailing, self._column(g))
        indent = self._indent(t, i, g.indent)
        top = self.stack[-1]
        inside = top.visual if top.visual is not None else top.content
        comment_indent = inside if str(t) in CLOSERS else indent
        self._own_lines(g.lines, comment_indent)
        self.cur, self.col, self.base = [" " * indent], indent, indent

    def _indent(self, t, i, orig: int) -> int:
        top, value = self.stack[-1], str(t)
        if value in CLOSERS:
            return top.line_indent
        if top.kind in "([" and top.kind:
            return top.visual if top.visual is not None else top.content
        if self.prev is not None and self._continues(i):
            stmt_orig, stmt_new = top.stmt
            if stmt_orig is None:               # no line of the statement to measure the offset from
                return stmt_new + INDENT
            return stmt_new + max(orig - stmt_orig, INDENT)
        top.stmt = (orig, top.content)
        return top.content

    def _continues(self, i) -> bool:
        prev, t = str(self.prev), str(self.toks[i])
        if prev == "else":
            return t != "{"
        if t == "else":
            return i + 1 < len(self.toks) and self.toks[i + 1].type == "STRING"
        return (prev in _CONT_END and self.prev.type not in ("NAME", "STRING")) or \
            (t in _CONT_START and self.toks[i].type not in ("NAME", "STRING"))

    # -- tokens ------------------------------------------------------------------------------------
    def _token(self, t, i):
        value, top = str(t), self.stack[-1]
        if len(self.cur) > 1:                   # not the first token of its line
            self._put(self._space(t, top))
        unary = value == "-" and (self.prev is None or self.prev.type not in _OPERAND_END)
        if value == "?":
            top.questions += 1
        elif value == ":" and top.questions:
            top.questions -= 1
        if value in CLOSERS:
            closed = self.stack.pop()
            if closed.opened_line != len(self.lines):
                # it closes a bracket of an earlier line: a bracket opened after it hangs from that one
                self.base = min(self.base, closed.line_indent)
        elif top.kind in ("(", "[") and top.visual is None and top.opened_line == len(self.lines):
            top.visual = top.after        # something follows the opener on its line: align after it
        self._put(value)
        if value in OPENERS:
            self._open(value)
        self.prev, self.unary = t, unary

    def _open(self, value):
        line_indent = self.base
        enclosing = self.stack[-1]
        if value == "{":
            anchor = enclosing.stmt[1] if enclosing.kind in ("", "{") else line_indent
            f = _Frame("{", anchor, anchor + INDENT, opened_line=len(self.lines))
            f.stmt = (None, f.content)     # the first statement starts on the brace's line
        else:
            f = _Frame(value, line_indent, line_indent + INDENT, opened_line=len(self.lines), after=self.col)
        self.stack.append(f)

    def _put(self, s):
        self.cur.append(s)
        self.col += len(s)

    def _space(self, t, top) -> str:
        value, prev = str(t), str(self.prev)
        if value in (")", "]", ",", ";") or prev in ("(", "["):
            return ""
        if value == "}":
            return "" if prev == "{" else " "
        if self.unary:
            return ""
        if "=" in (value, prev) and top.kind == "(":
            return ""                           # f(k=3), def f(c, stride=1)
        if value in ("(", "["):
            operand = self.prev.type in _OPERAND_END or (prev == "dag" and self.prev.type != "NAME")
            return "" if operand else " "
        if value == ":":
            return " " if top.questions else ""   # counted before this ':' is seen
        return " "
