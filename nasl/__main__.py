"""``python -m nasl``: the same command line as the ``nasl`` script (where no script is on PATH)."""
import sys

from nasl.cli import main

if __name__ == "__main__":
    sys.exit(main())
