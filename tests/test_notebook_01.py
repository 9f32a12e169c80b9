"""Notebook 01 · Memory virtualization: the pmap (notebooks/01_memory_virtualization.ipynb): its prose, reveals, guards,
Try it and questions."""
from __future__ import annotations


import re

import esxlab as esx

from notebook_cells import cell, cells as _cells, flat, text


MB = esx.PAGES_PER_MB


def test_01_the_worked_example_and_the_prediction_use_different_hosts():
    cells = _cells("01_memory_virtualization")
    example = next(c.source for c in cells if "## A worked example, by hand" in c.source)
    host = int(re.search(r"Now give the host only \*\*(\d+) MB\*\*", example).group(1))
    assert host != 14 and "Work the same three steps for 14 MB" in example
    mapped = 4096 - round(0.06 * host * 256)               # the example's own steps, for its host
    assert f"({host} − 2) " not in example and f"4096 − {round(0.06 * host * 256)} = **{mapped}**" in example
    assert f"at least 4096 − {mapped} = **{4096 - mapped} PPNs**" in example
    assert "1239" not in example                           # the prediction's hand value is the student's to find
    predict = next(c.source for c in cells if c.source.startswith("guess = Prediction("))
    assert "With 14 MB of machine memory" in predict


def test_01_says_why_every_ppn_ends_up_touched():
    example = text("01_memory_virtualization", "## A worked example")
    assert ("the guest's kernel holds about 6.6 MB, and with the toucher's 12 MB from minute 1 the guest needs more than "
            "its 16 MB, so its own memory manager recycles pages and every PPN gets touched") in example
    host = esx.Host(esx.HostConfig(memory_mb=40, swap_mb=64), seed=0)
    vm = host.power_on(esx.VMConfig(name="small", max_mb=16, overhead_mb=2),
                       workload=esx.workloads.Toucher([(0, 4), (60, 12), (180, 6)]))
    host.run(minutes=5)
    kernel_mb = vm.guest.kernel_pages / MB
    assert f"about {kernel_mb:.1f} MB" in example and kernel_mb + 12 > 16
    assert host.trace.vm("small").unbacked[59] > 0 and vm.stats().unbacked == 0 and vm.stats().private == 16


def test_01_diagram_ppns_sharing_a_frame_are_both_shared_and_columns_align():
    how = cell("01_memory_virtualization", "## How it works")
    lines = how.split("```")[1].strip("\n").split("\n")
    pmap = next(l for l in lines if l.lstrip().startswith("pmap:"))
    state = next(l for l in lines if l.lstrip().startswith("state:"))
    tokens = lambda line: [((m.start() + m.end()) / 2, m.group()) for m in re.finditer(r"\S+", line)][1:]
    mpn_at = dict(tokens(pmap))
    mpns = [w for _, w in tokens(pmap)]
    states = []
    for col, st in tokens(state):                        # each state sits under its PPN's pmap entry
        under = [w for c, w in mpn_at.items() if abs(c - col) <= 1]
        assert len(under) == 1, (col, st)
        mpn = under[0]
        states.append(st)
        if mpn == "—":
            assert st in ("unb", "bal", "swp"), (mpn, st)
        else:
            assert st == ("shr" if mpns.count(mpn) > 1 else "prv"), (mpn, st)
    assert states[0] == states[5] == "shr" and mpns[0] == mpns[5] == "8f44"


def test_01_observe_first_says_the_dashboard_shows_the_14_mb_run():
    text = flat(cell("01_memory_virtualization", "**Observe.**"))
    assert text.startswith("**Observe.** After Run All the dashboard above already shows the **14 MB** run")
    assert text.index("14 MB") < text.index("every PPN is blue")
    assert "drag the host's memory slider back to 40 MB: by the end of that run every PPN is blue" in text
    assert 'dash.controls["memory_mb"].value = 14' in cell("01_memory_virtualization", "dash.controls[")


def test_01_the_reveal_names_the_free_memory_esxlab_keeps():
    src = cell("01_memory_virtualization", "guess.reveal(")
    assert "a little more than 6 %" not in src and "100 * end.free / 14" in src and "invented 1 % margin" in src


def test_01_the_grid_stays_at_14_mb_while_the_text_talks_about_it():
    """A cell reset the slider to 40 before the text about "the ones now orange or red"; nothing is red.
    The text called ballooned (#E69F00) "amber" and swapped (#D55E00) "orange", where the palette
    (Okabe & Ito) names them orange and vermillion, so a student took the orange cells for swapped ones.
    Orange and vermillion merge under deuteranopia; the balloon is now a light yellow."""
    from esxlab.views.components import COLORS
    assert (COLORS["swapped"], COLORS["balloon"]) == ("#D55E00", "#F0E442")
    cells = _cells("01_memory_virtualization")
    sets = [c.source for c in cells if 'dash.controls["memory_mb"].value' in c.source]
    assert len(sets) == 1 and 'dash.controls["memory_mb"].value = 14' in sets[0]
    text = " ".join(" ".join(c.source.split()) for c in cells if c.cell_type == "markdown")
    assert " red" not in text and "amber" not in text.lower()
    assert "Light yellow (balloon) and vermillion (swapped, a much darker orange) PPNs appear" in text
    assert "the ones now yellow or vermillion in the grid above" in text


def test_01_run_all_leaves_the_minute_at_the_end_where_the_hidden_checks_compare_the_grid():
    """The two hidden checks compare the pmap grid with the run's end only while the minute slider is there: a student
    who scrubbed it, as Observe asks, and ran the cells below saw them fail (session 67). Under Run All they compare."""
    names, compared = {}, 0
    for c in _cells("01_memory_virtualization"):
        if c.cell_type == "code":
            if "if dash.minute.value == dash.minute.max:" in c.source:
                assert names["dash"].minute.value == names["dash"].minute.max, c.source[:60]
                compared += 1
            exec(c.source, names)
    assert compared == 2
