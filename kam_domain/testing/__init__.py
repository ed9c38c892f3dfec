"""Test kits this library ships for code that plugs into it.

:mod:`kam_domain.testing.storage` holds the conformance tests every storage adapter must pass:
subclass its cases, say how to make a fresh store, and run them with pytest or unittest.
"""
