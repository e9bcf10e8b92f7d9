"""``python -m proofs_numeric.cli``: the ``sgtheory`` command without the console script."""

import sys

from proofs_numeric.cli import main

sys.exit(main())
