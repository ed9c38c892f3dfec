"""``python -m kam_domain.cli``: the same as the ``kam`` command."""

import sys

from kam_domain.cli import main

sys.exit(main())
