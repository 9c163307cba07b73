"""Waits of the offboarding product: deferrable operators that hold no worker slot while waiting."""
