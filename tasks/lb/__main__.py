"""`python -m tasks.lb`."""

import sys

from tasks.lb import main

sys.exit(main())
