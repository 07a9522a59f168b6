"""The nasl language: parsing and elaboration into the IR."""
from __future__ import annotations

from nasl.dsl.elaborate import Program
from nasl.dsl.parser import parse
from nasl.ir.errors import InternalError, NaslError
from nasl.ir.space import Space


class _Backend:
    """What a Space calls back into: realization of architectures."""

    def __init__(self, program: Program):
        self.program = program
        self.source = program.ast.source       # for carets under spans found later

    def realize(self, values: dict):
        builder = self.program.run_realize(values)
        return builder.g

    def super_realize(self, spec):
        return self.program.run_super(spec)


def elaborate(text: str, file: str = "<string>", params: dict | None = None) -> Space:
    """Parse and elaborate ``text`` into a :class:`~nasl.ir.space.Space`."""
    try:
        prog = parse(text, file)
    except NaslError as e:
        raise e.with_source(text)
    except RecursionError:
        raise NaslError(f"{file}: the space nests too deeply to elaborate") from None
    return elaborate_ast(prog, params)


def elaborate_ast(prog, params: dict | None = None) -> Space:
    """Elaborate a parsed program (``parse(text, file)``) into a :class:`~nasl.ir.space.Space`.

    One AST may be elaborated many times, with different ``params``; each call
    runs the program afresh and shares nothing with the others."""
    try:
        program = Program(prog, params)
        spec, dags, values = program.run_spec()
    except NaslError as e:
        raise e.with_source(prog.source)
    except RecursionError:
        raise NaslError(f"{prog.file}: the space nests too deeply to elaborate") from None
    return Space(spec, dags, values, _Backend(program), name=prog.file, graph_constraints=program.graph_constraints)


__all__ = ["elaborate", "elaborate_ast", "parse", "Program", "NaslError", "InternalError"]
