"""``python -m nasl.grammars``: rebuild the shipped LALR tables after editing the grammar."""
from nasl.dsl.parser import build_tables

print(build_tables())
