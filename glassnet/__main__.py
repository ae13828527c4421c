"""`python -m glassnet ...` is the `glassnet` command."""

import sys

from .cli import main

sys.exit(main())
