"""``python -m nasl.grammars``: rebuild the LALR tables and the keyword table after editing the grammar."""
from nasl.dsl.parser import build_tables

print(build_tables())
