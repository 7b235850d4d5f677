"""`python -m tasks.metallb`."""

import sys

from tasks.metallb import main

sys.exit(main())
