"""Export a compiled architecture as standalone PyTorch source.

The file imports only ``torch`` (and ``collections.OrderedDict``). It holds
the source of every helper module class the network uses (``FactorizedReduce``,
``MBConv``, ...) and a class ``Net`` whose ``__init__`` builds the same
submodule tree, under the same names, as :func:`nasl.compiler.compile`, and
whose ``forward`` is the generated ``torch.fx`` code. So
``Net().load_state_dict(compiled.state_dict())`` works and both give the
same outputs.

Leaf modules from ``torch.nn`` are written as constructor calls whose
arguments are read back from the module (``nn.Conv2d(16, 16, 3, padding=1,
bias=False)``). Other classes are rebuilt with their own constructor where a
recipe below knows its arguments; otherwise the class is emitted without its
``__init__`` and the instance is assembled by ``_build(cls, attrs, **children)``
from its children and its plain attributes.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import json
import keyword
import symtable
import textwrap

from torch import fx, nn

from nasl.ir.errors import NaslError

_LITERALS = (bool, int, float, str, type(None))
_SKIP_ARGS = {"device", "dtype", "self"}
_FX_GLOBALS = {"inf": "inf = float('inf')", "nan": "nan = float('nan')", "NoneType": "NoneType = type(None)",
               "device": "device = torch.device"}
_BUILD_SRC = '''def _build(cls, attrs, **children):
    """An instance of ``cls`` with the given submodules and plain attributes, without calling its __init__."""
    m = cls.__new__(cls)
    nn.Module.__init__(m)
    for name, child in children.items():
        m.add_module(name, child)
    m.__dict__.update(attrs)
    return m
'''


def _literal(v) -> bool:
    if isinstance(v, (tuple, list)):
        return all(_literal(x) for x in v)
    return isinstance(v, _LITERALS)


def _squeeze(v):
    """``(3, 3)`` -> ``3`` for the conv and pool arguments that take either."""
    return v[0] if isinstance(v, tuple) and v and all(x == v[0] for x in v) else v


def _is_torch_nn(cls) -> bool:
    return cls.__module__.startswith("torch.nn.") and getattr(nn, cls.__name__, None) is cls


def _torch_base(cls):
    """The first ``torch.nn`` class in the MRO whose ``__init__`` ``cls`` inherits, if ``cls`` defines none."""
    for c in cls.__mro__:
        if "__init__" in vars(c):
            return c if _is_torch_nn(c) and c is not nn.Module else None
    return None


def _call_args(mod: nn.Module, cls) -> str | None:
    """Constructor arguments of a ``torch.nn`` class, read back from ``mod``; None if unknown."""
    squeeze = cls.__module__.startswith(("torch.nn.modules.conv", "torch.nn.modules.pooling"))
    parts = []
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name in _SKIP_ARGS or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if not hasattr(mod, name):
            if p.default is p.empty:
                return None
            continue
        v = getattr(mod, name)
        if isinstance(v, nn.Parameter) or (v is None and isinstance(p.default, bool)):
            v = v is not None                       # bias=True/False
        if squeeze:
            v = _squeeze(v)
        if not _literal(v):
            return None
        if p.default is p.empty:
            parts.append(repr(v))
        elif not (type(v) is type(p.default) and v == p.default):
            parts.append(f"{name}={v!r}")
    return ", ".join(parts)


def _first_init(cls):
    """The class in the MRO of ``cls`` whose ``__init__`` it uses."""
    return next(c for c in cls.__mro__ if "__init__" in vars(c))


def _recipes(mod: nn.Module):
    """Constructor arguments of nasl's own helper classes, or None."""
    name = type(mod).__name__
    if type(mod).__module__.startswith("nasl.compiler"):
        if name == "FactorizedReduce":
            return f"{mod.conv1.in_channels}, {mod.bn.num_features}"
        if name == "ConcatConv":
            return f"{mod.conv.in_channels}, {mod.conv.out_channels}"
        if name == "SqueezeExcite":
            return f"{mod.reduce.in_channels}, {mod.reduce.out_channels}, {mod.gate!r}"
    return None


class _Writer:
    def __init__(self):
        self.classes: dict = {}        # class -> source, in dependency order
        self.uses_build = False
        self.uses_odict = False

    # ------------------------------------------------------------ classes
    def _emit_class(self, cls, keep_init: bool):
        if cls in self.classes:
            return
        for base in cls.__bases__:
            if not _is_torch_nn(base) and base is not object:
                self._emit_class(base, keep_init=True)
        src = textwrap.dedent(inspect.getsource(cls))
        if not keep_init:
            tree = ast.parse(src)
            body = tree.body[0].body
            tree.body[0].body = [s for s in body if not (isinstance(s, ast.FunctionDef) and s.name == "__init__")] \
                or [ast.Pass()]
            src = ast.unparse(tree) + "\n"
        self.classes[cls] = src

    # ------------------------------------------------------------ modules
    def expr(self, mod: nn.Module, indent: str) -> str:
        cls = type(mod)
        if cls is nn.Sequential:
            return self._children_call("nn.Sequential", mod, indent)
        if _is_torch_nn(cls):
            args = _call_args(mod, cls)
            if args is None:
                raise ValueError(f"cannot write a constructor call for {cls.__name__}")
            return self._with_children(f"nn.{cls.__name__}({args})", mod, cls)
        recipe = _recipes(mod)
        base = _torch_base(cls)
        if (recipe is not None or base is not None) and _self_contained(cls):
            args = recipe if recipe is not None else _call_args(mod, base)
            if args is not None:
                self._emit_class(cls, keep_init=True)
                return f"{cls.__name__}({args})"
        if not mod._modules and not _attrs(mod) and _first_init(cls) is nn.Module:
            self._emit_class(cls, keep_init=True)
            return f"{cls.__name__}()"
        self._emit_class(cls, keep_init=False)
        self.uses_build = True
        head = "nn.Module" if cls is nn.Module else cls.__name__
        return self._children_call(f"_build({head}, {_attrs(mod)!r}", mod, indent, opened=True)

    def _with_children(self, call: str, mod, cls) -> str:
        if mod._modules:
            raise ValueError(f"{cls.__name__} with submodules is not supported")
        if mod._parameters.keys() - {"weight", "bias", "in_proj_weight", "in_proj_bias"} or \
                any(v is not None and k not in ("running_mean", "running_var", "num_batches_tracked")
                    for k, v in mod._buffers.items()):
            raise ValueError(f"{cls.__name__} has extra parameters or buffers")
        return call

    def _children_call(self, head: str, mod, indent: str, opened: bool = False) -> str:
        if mod._parameters or any(b is not None for b in mod._buffers.values()):
            raise ValueError(f"{type(mod).__name__} holds its own parameters or buffers; "
                             "the standalone export only rebuilds them inside submodules")
        names = list(mod._modules)
        inner = indent + "    "
        items = [(n, self.expr(m, inner)) for n, m in mod._modules.items()]
        if opened:
            body = "".join(f"\n{inner}{n}={e}," for n, e in items) if all(_ident(n) for n in names) else None
            if body is None:
                raise ValueError(f"submodule names of {type(mod).__name__} are not identifiers")
            return f"{head},{body}\n{indent})"
        if names == [str(i) for i in range(len(names))]:
            return f"{head}(" + "".join(f"\n{inner}{e}," for _, e in items) + f"\n{indent})"
        self.uses_odict = True
        if all(_ident(n) for n in names):
            return f"{head}(OrderedDict(" + "".join(f"\n{inner}{n}={e}," for n, e in items) + f"\n{indent}))"
        return f"{head}(OrderedDict([" + "".join(f"\n{inner}({n!r}, {e})," for n, e in items) + f"\n{indent}]))"


def _ident(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _attrs(mod: nn.Module) -> dict:
    out = {}
    for k, v in vars(mod).items():
        if k.startswith("_") or k == "training":
            continue
        if not _literal(v):
            raise ValueError(f"{type(mod).__name__}.{k} is not a plain value ({type(v).__name__}); "
                             "the standalone export cannot rebuild it")
        out[k] = v
    return out


class ExportLimit(ValueError):
    """A submodule (at dotted ``path`` of the compiled module) that the standalone export cannot write."""

    def __init__(self, path: str, reason: str):
        super().__init__(reason)
        self.path, self.reason = path, reason


def _init_lines(w: _Writer, mod: nn.Module, prefix: str) -> list:
    lines = []
    for name, child in mod._modules.items():
        path = f"{prefix}.{name}"
        if type(child) is nn.Module and not child._parameters and not child._buffers:
            lines.append(f"        {path} = nn.Module()")
            lines += _init_lines(w, child, path)
        else:
            try:
                lines.append(f"        {path} = {w.expr(child, '        ')}")
            except ExportLimit:
                raise
            except ValueError as e:     # which op's module it is, to_python says
                raise ExportLimit(path.split(".", 1)[1], str(e)) from e
    return lines


def _self_contained(cls) -> bool:
    """Whether the source of ``cls`` (with its __init__) uses only torch, nn, builtins and its own bases."""
    known = {"torch", "nn", "OrderedDict"} | {c.__name__ for c in cls.__mro__}
    try:
        _check_globals(textwrap.dedent(inspect.getsource(cls)), known)
    except (ValueError, OSError, TypeError):
        return False
    return True


class _UnknownGlobal(ValueError):
    """A helper class (``owner``, the top-level class) uses a global the export does not define."""

    def __init__(self, message: str, owner: str | None):
        super().__init__(message)
        self.owner = owner


def _check_globals(src: str, known: set):
    """Every global name the emitted helper classes use is torch, nn, a builtin or an emitted name."""
    def walk(t, owner):
        top = t.get_type() == "module"
        for s in t.get_symbols():
            free = (s.is_referenced() and not s.is_assigned() and not s.is_imported()) if top else s.is_global()
            if free and s.get_name() not in known and not hasattr(builtins, s.get_name()):
                raise _UnknownGlobal(f"'{t.get_name()}' uses '{s.get_name()}', which the standalone export "
                                     f"does not define", owner)
        for c in t.get_children():
            walk(c, c.get_name() if top else owner)
    walk(symtable.symtable(src, "<export>", "exec"), None)


def module_source(gm: fx.GraphModule, class_name: str = "Net", doc: str = "") -> str:
    """Standalone source of a ``torch.fx.GraphModule`` built by the compiler."""
    w = _Writer()
    init = _init_lines(w, gm, "self")
    code = gm.graph.python_code(root_module="self")
    forward = code.src.strip("\n")
    used = {n.id for n in ast.walk(ast.parse(forward)) if isinstance(n, ast.Name)}
    fx_globals = [_FX_GLOBALS[k] for k in sorted(_FX_GLOBALS) if k in used]
    for name in used & set(code.globals) - set(_FX_GLOBALS) - {"torch"}:
        raise ValueError(f"the generated forward uses '{name}', which the standalone export cannot provide")
    helpers = "\n\n".join(w.classes.values())
    known = {"torch", "nn", "OrderedDict", "_build"} | {c.__name__ for c in w.classes}
    try:
        _check_globals(helpers, known)
    except _UnknownGlobal as e:         # at the first module of that class: its op is what to name
        path = next((p for p, m in gm.named_modules() if p and type(m).__name__ == e.owner), None)
        if path is None:
            raise
        raise ExportLimit(path, str(e)) from e
    shapes = getattr(gm, "input_shapes", {}) or {}
    parts = ['"""' + (doc or f"{class_name}: generated by nasl.") + '\n"""',
             ("from collections import OrderedDict\n\n" if w.uses_odict else "") + "import torch\nfrom torch import nn"]
    if fx_globals:
        parts.append("\n".join(fx_globals))
    if helpers:
        parts.append(helpers.rstrip("\n"))
    if w.uses_build:
        parts.append(_BUILD_SRC.rstrip("\n"))
    parts.append(f"class {class_name}(nn.Module):\n"
                 f"    input_shapes = {json.dumps({k: list(v) for k, v in shapes.items()})}\n\n"
                 "    def __init__(self):\n        super().__init__()\n" + "\n".join(init) + "\n\n"
                 + textwrap.indent(forward, "    "))
    inputs = ", ".join(f"torch.randn(1, *{list(s)})" for s in shapes.values())
    parts.append(f'if __name__ == "__main__":\n    net = {class_name}().eval()\n'
                 f"    with torch.no_grad():\n        out = net({inputs})\n"
                 "    print(tuple(o.shape for o in out) if isinstance(out, tuple) else tuple(out.shape))")
    return "\n".join(line.rstrip() for line in "\n\n\n".join(parts).split("\n")) + "\n"


def to_python(space, arch, input_shape=None, *, class_name: str = "Net") -> str:
    """Standalone PyTorch source of one architecture (see the module docstring)."""
    from nasl.compiler.build import compile

    gm = compile(space, arch, input_shape)
    try:
        return _to_python(space, arch, gm, class_name)
    except ExportLimit as e:
        raise _at_op(space, arch, gm, e) from e
    except ValueError as e:             # a limit of the export, not a bug: say so in one line
        raise NaslError(f"cannot export this architecture as standalone Python: {e}",
                        hint="export it with --to onnx, or compile it with nasl.compile where its op "
                             "modules can be imported") from e


def _at_op(space, arch, gm, e: ExportLimit) -> NaslError:
    """The export limit ``e`` as an error at the op whose module it is, naming the module's code."""
    from nasl.compiler.build import module_paths, source_of
    from nasl.compiler.layers import get_builder

    graph = space.realize(arch)
    by_path = {p: n for n, p in module_paths(graph).items()}
    node = next((by_path[p] for p in sorted(by_path, key=len, reverse=True)
                 if e.path == p or e.path.startswith(p + ".")), None)
    cls = type(gm.get_submodule(e.path))
    where = f"its class {cls.__qualname__} is from module '{cls.__module__}'"
    if node is None:
        return NaslError(f"cannot export this architecture as standalone Python: {e.reason} ({where})")
    d = graph.nodes[node]
    builder = get_builder(d["op"])
    built_in = getattr(builder, "__module__", None)
    if built_in and built_in != cls.__module__:
        where += f", made by the op's builder in module '{built_in}'"
    at = "" if node == d["op"] else f" at '{node}'"
    err = NaslError(f"op '{d['op']}'{at} cannot be exported as standalone Python: {e.reason}; {where}",
                    d.get("span"), path=node,
                    hint="export it with --to onnx, or compile it with nasl.compile where that module "
                         "can be imported")
    return err.with_source(source_of(space))


def _to_python(space, arch, gm, class_name: str) -> str:
    from nasl.compiler.build import count_params

    values = dict(arch.items()) if hasattr(arch, "items") else dict(arch)
    doc = (f"{class_name}: an architecture of the nasl space {getattr(space, 'name', '?')}, "
           f"generated by nasl.compiler.to_python.\n\n"
           f"Parameters: {count_params(gm):,}. Inputs (without the batch dimension): "
           f"{ {k: tuple(v) for k, v in gm.input_shapes.items()} }.\nArchitecture:\n"
           + "\n".join(f"    {k} = {json.dumps(v, default=str)}" for k, v in values.items()))
    return module_source(gm, class_name, doc.replace('"""', "'''").replace("\\", "\\\\"))


__all__ = ["to_python", "module_source"]


def write_python(space, arch, out, input_shape=None, *, to="python") -> str:
    """``nasl export --to python``: :func:`to_python`'s source in ``out`` (``-o net`` writes ``net.py``)."""
    import os
    from nasl.ir.errors import NaslError
    source = to_python(space, arch, input_shape)
    path = out + ("" if os.path.splitext(out)[1] else ".py")
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
    except OSError as err:
        raise NaslError(f"cannot write '{path}': {err.strerror}") from None
    return path

