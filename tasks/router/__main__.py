"""`python -m tasks.router`."""

import sys

from tasks.router import main

sys.exit(main())
