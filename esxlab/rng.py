"""One seed, one tree of random streams.

Every random choice in esxlab comes from a ``numpy.random.Generator`` derived from the
host's seed. Each subsystem (a VM's workload, the sampler, the swapper, the sharing
scanner...) gets its own child stream keyed by name, so adding a VM or a subsystem does not
shift the others' random sequences, and the same seed gives the same trace, bit for bit.
"""
from __future__ import annotations

import zlib

import numpy as np

from .errors import ConfigError, shorten

#: the one rule for seeds, shared by ``Host``, the experiments and ``reproduce --seed``
SEED_MAX = 2 ** 63 - 1


def check_seed(seed: object, label: str = "seed") -> int:
    """``seed`` as an int, or ConfigError unless it is an integer with 0 ≤ seed ≤ 2**63 − 1."""
    if (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))
            or not 0 <= seed <= SEED_MAX):
        raise ConfigError(f"{label} = {shorten(seed)} is not allowed; allowed: a "
                          f"non-negative integer, 0 ≤ seed ≤ 2**63 − 1 = {SEED_MAX}.")
    return int(seed)


class Streams:
    """Named child streams of one seed (``numpy.random.SeedSequence`` spawn keys)."""

    def __init__(self, seed: int) -> None:
        self.seed = check_seed(seed)

    def child(self, name: str) -> np.random.Generator:
        """The generator for subsystem ``name``; the same name always gives the same stream."""
        key = zlib.crc32(name.encode())
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(key,))))
