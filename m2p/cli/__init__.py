"""The ``m2p`` command: the dispatcher and the core subcommands (``core``), ``m2p export``
(``export``), the library commands (``library``), and what they share: argument types and the
inference options (``args``), what they print (``output``). Adapters add their own commands
through the ``register_commands`` hook."""
