"""``python -m m2p``: the command-line interface (see :mod:`m2p.cli.core`)."""

from m2p.cli.core import main

raise SystemExit(main())
