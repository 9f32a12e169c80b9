"""One seed, one tree of random streams.

Every random choice in esxlab comes from a ``numpy.random.Generator`` derived from the
host's seed. Each subsystem (a VM's workload, the sampler, the swapper, the sharing
scanner...) gets its own child stream keyed by name, so adding a VM or a subsystem does not
shift the others' random sequences, and the same seed gives the same trace, bit for bit.
"""
from __future__ import annotations

import zlib

import numpy as np

from .errors import ConfigError


class Streams:
    """Named child streams of one seed (``numpy.random.SeedSequence`` spawn keys)."""

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"seed = {seed!r} must be a non-negative integer.")
        self.seed = int(seed)

    def child(self, name: str) -> np.random.Generator:
        """The generator for subsystem ``name``; the same name always gives the same stream."""
        key = zlib.crc32(name.encode())
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(key,))))
