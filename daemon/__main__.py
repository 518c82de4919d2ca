"""``python -m aftercare`` is the ``aftercare`` command."""
import sys

from .cli import main

sys.exit(main())
