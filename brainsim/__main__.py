import sys

from brainsim.cli import main

sys.exit(main())
