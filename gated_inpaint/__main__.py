"""`python -m gated_inpaint COMMAND ...`: the same as `gated-inpaint COMMAND ...`."""

import sys

from gated_inpaint.commands.main import main

sys.exit(main())
