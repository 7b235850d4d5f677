"""`python -m tasks.edge`."""

import sys

from tasks.edge import main

sys.exit(main())
