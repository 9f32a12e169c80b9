"""Notebook 02 · Ballooning (paper §3.2, Figure 2; notebooks/02_ballooning.ipynb): its prose, reveals, guards, Try it
and questions."""

from notebook_cells import cell_by_id, text_by_id


def test_02_observe_says_the_throughput_units_differ_from_the_papers():
    assert 'ylabel="dbench throughput (accesses/s)"' in cell_by_id("02_ballooning", "1209f4c1")
    text = text_by_id("02_ballooning", "fac68d29")
    assert "esxlab's throughput is in accesses/s, the paper's Figure 2 in MB/s, so compare ratios" in text
