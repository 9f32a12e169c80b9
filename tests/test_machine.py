"""Machine memory (paper §2): owner codes for what a later mechanism holds outside any VM."""
import numpy as np

from esxlab.machine import FREE, Machine, OVERHEAD, SHARED, TABLE


def test_owner_codes_by_name_are_stable_distinct_and_below_the_fixed_ones():
    """The same name gets the same code; new names get codes below TABLE, one after another."""
    m = Machine(16)
    a, b = m.owner_code("cache"), m.owner_code("other")
    assert a == m.owner_code("cache") and (a, b) == (TABLE - 1, TABLE - 2)
    assert not {a, b} & {FREE, OVERHEAD, SHARED, TABLE}
    mpns = m.alloc(3, a)
    assert (m.owner[mpns] == a).all()


def test_a_machine_page_is_zeroed_before_it_is_handed_out_again():
    m = Machine(8)
    first = m.alloc(8, owner=1)
    m.content[first] = np.arange(1, 9, dtype=np.uint64)          # one VM's data in every page
    m.release(first[:3])
    again = m.alloc(3, owner=2)
    assert set(again.tolist()) == set(first[:3].tolist()) and not m.content[again].any()
    assert m.content[first[3:]].tolist() == [4, 5, 6, 7, 8]
