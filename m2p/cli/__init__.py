"""The ``m2p`` command: the core subcommands (``core``), the library ones (``library``) and
whatever adapters register."""
