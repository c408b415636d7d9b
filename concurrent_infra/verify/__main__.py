"""``python -m concurrent_infra.verify``."""

import sys

from . import main

sys.exit(main())
