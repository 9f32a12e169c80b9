"""Page contents as 64-bit tokens: what content-based page sharing compares (§4).

A page's content is one ``uint64`` token; 0 is the all-zero page. Two pages hold the same
data exactly when their tokens are equal, so identical OS code across VMs is modelled by
equal tokens and a guest write by a fresh token nobody else can produce:

* **image tokens** name page ``i`` of an OS image (guest OS + version): every VM booting
  that image writes the same tokens (the redundancy page sharing finds, §4);
* **private tokens** are minted per VM from a counter, with the VM's unique id in the high
  bits, so no VM can ever produce another VM's data (isolation is testable).
"""
from __future__ import annotations

import zlib

import numpy as np

_PRIVATE_BIT = np.uint64(1 << 63)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a fast, high-quality 64-bit mixing of ``x`` (uint64 array). ESX used Bob Jenkins'
    hash (§4.2); any fast, high-quality 64-bit hash serves here (invented choice)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def image_tokens(image: str, index: np.ndarray) -> np.ndarray:
    """Tokens of pages ``index`` of the named image: equal across VMs, never 0, never private."""
    base = np.uint64(zlib.crc32(image.encode()) << 32)
    t = mix64(base + np.asarray(index, dtype=np.uint64)) & ~_PRIVATE_BIT
    return np.where(t == 0, np.uint64(1), t)


class TokenMint:
    """Fresh private tokens for one VM: bit 63 set, VM uid in bits 40–62, a counter below."""

    def __init__(self, uid: int) -> None:
        self.base = _PRIVATE_BIT | np.uint64((uid & 0x7FFFFF) << 40)
        self.next = 1

    def take(self, n: int) -> np.ndarray:
        """``n`` tokens never handed out before (uint64, shape (n,)): a write's fresh contents."""
        out = self.base + np.arange(self.next, self.next + n, dtype=np.uint64)
        self.next += n
        return out


def owner_uid(tokens: np.ndarray) -> np.ndarray:
    """The VM uid that minted each private token (−1 for image or zero tokens)."""
    t = np.asarray(tokens, dtype=np.uint64)
    uid = ((t >> np.uint64(40)) & np.uint64(0x7FFFFF)).astype(np.int64)
    return np.where(t & _PRIVATE_BIT, uid, -1)
