"""python -m brr_bayes: the same as the brr-bayes command."""
import sys

from .cli import main

sys.exit(main())
