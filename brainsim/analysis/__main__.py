import sys

from brainsim.analysis.cli import analyse_main

sys.exit(analyse_main())
