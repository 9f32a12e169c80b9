"""Seeded exercise problems, one module per graded exercise in ``exercises/source/``.

``problems.<Name>(seed)`` poses a problem from the seed and answers it with esxlab's own
model (see :mod:`.base`); :mod:`esxlab.checks` checks a student's answers against it.
Instructors preview the answers with :mod:`.instructor` (the problem object has no public
method that gives them). A new exercise adds its row here (``tests/test_contributor_docs.py``
compares the table with the modules; ``docs/architecture.md`` lists the other steps).

| module | exercise notebook | problems |
|---|---|---|
| :mod:`.ballooning` | ballooning | :class:`BalloonSplit` |
| :mod:`.page_sharing` | page_sharing | :class:`SharingPrediction` |
| :mod:`.idle_memory_tax` | idle_memory_tax | :class:`RhoVictim`, :class:`TaxTargets` |
| :mod:`.sampling` | sampling | :class:`SamplingEstimate` |
| :mod:`.free_memory_states` | free_memory_states | :class:`FreeMemoryWalk`, :class:`Admission` |
| :mod:`.io_remapping` | io_remapping | :class:`HotPageRemap` |
| :mod:`.capstone_policy` | capstone_policy | :class:`BeatRandom` |
| :mod:`.demand_paging` | demand_paging | :class:`DoublePaging` |
| :mod:`.security` | security | :class:`SideChannel` |
| :mod:`.esx_vs_ksm` | esx_vs_ksm | :class:`KsmCounters` |
| :mod:`.esx_today` | esx_today | :class:`LimitTargets`, :class:`SharingStopped` |
"""
from .ballooning import BalloonSplit
from .base import Problem
from .capstone_policy import BeatRandom
from .demand_paging import DoublePaging
from .esx_today import LimitTargets, SharingStopped
from .esx_vs_ksm import KsmCounters
from .free_memory_states import Admission, FreeMemoryWalk
from .idle_memory_tax import RhoVictim, TaxTargets
from .io_remapping import HotPageRemap
from .page_sharing import SharingPrediction
from .sampling import SamplingEstimate
from .security import SideChannel

__all__ = ["Admission", "BalloonSplit", "BeatRandom", "DoublePaging", "FreeMemoryWalk", "HotPageRemap", "KsmCounters",
           "LimitTargets", "Problem", "RhoVictim", "SamplingEstimate", "SharingPrediction", "SharingStopped", "SideChannel",
           "TaxTargets"]
