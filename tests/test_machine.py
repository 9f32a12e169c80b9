"""Machine memory (paper §2): owner codes for what a later mechanism holds outside any VM."""
from esxlab.machine import FREE, OVERHEAD, SHARED, TABLE, Machine


def test_owner_codes_by_name_are_stable_distinct_and_below_the_fixed_ones():
    """The same name gets the same code; new names get codes below TABLE, one after another."""
    m = Machine(16)
    a, b = m.owner_code("cache"), m.owner_code("other")
    assert a == m.owner_code("cache") and (a, b) == (TABLE - 1, TABLE - 2)
    assert not {a, b} & {FREE, OVERHEAD, SHARED, TABLE}
    mpns = m.alloc(3, a)
    assert (m.owner[mpns] == a).all()
