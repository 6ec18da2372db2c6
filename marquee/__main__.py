# ``python -m marquee``: the same as the ``marquee`` command (subprocesses start it this way).
import sys

from app.cli import main

sys.exit(main())
