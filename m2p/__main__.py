"""``python -m m2p``: the command-line interface (see :mod:`m2p.cli`)."""

from m2p.cli import main

raise SystemExit(main())
