"""A new instructor's finding (stop 39): a victim chosen by the right rule from the student's own wrong ρ values
was told to reverse the rule ("revocation starts at the other end")."""
import pytest

from esxlab import checks, problems
from esxlab.policy import shares_per_page
from esxlab.config import PAGES_PER_MB


def _said(p, rhos, victim) -> str:
    with pytest.raises(checks.CheckFailed) as failed:
        checks.check(p, rhos=rhos, victim=victim)
    return next(line for line in str(failed.value).splitlines() if "`victim` is not right" in line)


def _own_rhos(p, tax_rate: float) -> list[float]:
    return [shares_per_page(v["shares"], v["alloc_mb"] * PAGES_PER_MB, v["active_fraction"], tax_rate)
            for v in p.vms]


@pytest.mark.parametrize("seed", range(12))
def test_the_victim_of_the_students_own_rhos_sends_them_back_to_rhos(seed):
    p = problems.RhoVictim(seed)
    for rhos in (_own_rhos(p, 0.0), [r * s for r, s in zip(_own_rhos(p, p.tax_rate), (1.0, 3.0, 0.2))]):
        victim = p.NAMES[rhos.index(min(rhos))]
        if victim == p.NAMES[_own_rhos(p, p.tax_rate).index(min(_own_rhos(p, p.tax_rate)))]:
            continue                                      # their victim is right after all
        said = _said(p, rhos, victim)
        assert "lowest ρ of your own `rhos`" in said and "other end" not in said and "idlest" not in said, said


@pytest.mark.parametrize("seed", range(12))
def test_a_wrong_victim_beside_right_rhos_still_gets_the_rules_hints(seed):
    p = problems.RhoVictim(seed)
    rhos = _own_rhos(p, p.tax_rate)
    no_tax = _own_rhos(p, 0.0)
    said = _said(p, rhos, p.NAMES[no_tax.index(min(no_tax))])
    # the untaxed victim's hint only beside untaxed rhos: these include the tax (tests/test_trial49_exercises2)
    assert "without the idle memory tax" not in said and "your own `rhos`" not in said, said
