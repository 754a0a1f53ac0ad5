"""Open training corpus for music2palette (training-only; never imported by ``m2p``).

Build with ``python -m training.corpus.build --cache training/cache [--full]``.
See ``docs/data.md`` for the output contract, licences and label statistics.
"""
