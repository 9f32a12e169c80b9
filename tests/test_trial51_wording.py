"""Wording fixes from the fidelity audit (D1, D3, D5, D6): each sentence says which numbers are the paper's."""
import ast
import json
import pathlib

import pytest

import esxlab as esx
from esxlab.experiments import fig7, fig8

ROOT = pathlib.Path(__file__).resolve().parents[1]


def flat(text):
    return " ".join(text.split())


def test_d1_memory_mb_source_names_358_as_fig7_uses():
    """§5.4 says about 360 MB; fig7 sizes its host from the digitized 179 + 179 = 358."""
    source = esx.HostConfig.controls()["memory_mb"].source
    assert fig7.PAPER_AVAILABLE_MB == 358 == 179 + 179
    assert "358" in source and "179 + 179" in source and "about 360" in source
    assert "from the 360" not in source


def sql_question():
    nb = json.loads((ROOT / "notebooks" / "09_dynamic_reallocation.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c.get("id") == "09-20")
    call = ast.parse("".join(cell["source"])).body[0].value     # Question("...", choices=..., ...)
    return call.args[0].value


def test_d3_minute_62_is_esxlabs_schedule_not_the_papers():
    text = sql_question()
    assert "long query" in text
    assert "minute 62 of the paper" not in text and "paper's run" not in text
    assert "minute 62 of esxlab's Figure 8 run" in text and "the paper gives no minute" in text
    assert "between minutes 60 and 65" in text
    start = fig8.PARAMS["bench_start_min"].default
    query = max(fig8.SCHEDULES["sql"], key=lambda step: step[1])     # the long query: SQL's largest working set
    assert (start, query[0], start + query[0]) == (17, 45, 62)
    assert f"start at {start};" in text and f"{query[0]} minutes after" in text


def test_d5_no_later_esx_default_is_called_the_papers():
    assert "test_at_the_papers_rates" not in (ROOT / "tests" / "test_sharing.py").read_text(encoding="utf-8")
    assert "def test_defaults_are_the_papers" not in (ROOT / "tests" / "test_config.py").read_text(encoding="utf-8")
    perf = flat((ROOT / "docs" / "performance.md").read_text(encoding="utf-8"))
    assert "paper's rates" not in perf
    assert "later ESX 2.x's 50 pages/s per VM and 200 in all; the paper gives none, §4.3" in perf
    sharing = esx.SharingConfig()
    assert (sharing.scan_vm_pages_s, sharing.scan_total_pages_s) == (50, 200)


def test_d6_esx2002_docstring_names_its_later_esx_balloon_cap_and_swap_files():
    doc = flat(esx.HostConfig.esx2002.__doc__)
    assert "balloon_max_pct" in doc and "65 %" in doc and "Mem.CtlMaxPercent" in doc
    assert "ESX 2.5's default was half of max" in doc
    assert "swap_mb=None" in doc and "admission then checks no swap space" in doc
    v = esx.HostConfig.esx2002()
    assert v.swap_mb is None and v.swap_pages is None and esx.VMConfig().balloon_max_pct == 65
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    era = readme[readme.index("The two eras side by side"):readme.index("<!-- reproduce:begin")]
    row = next(line for line in era.splitlines() if line.startswith("| balloon cap"))
    assert "half of max" in row and "Mem.CtlMaxPercent" in row
    row = next(line for line in era.splitlines() if line.startswith("| swap space"))
    assert "admission checks no swap space" in row


def two_vms(**host):
    h = esx.Host(esx.HostConfig.esx2002(memory_mb=512, **host), seed=0)
    for name in ("a", "b"):
        h.power_on(esx.VMConfig(name=name, max_mb=128))
    return h


def test_d6_the_docstrings_claim_holds_per_vm_swap_files_never_refuse_a_shared_area_does():
    """swap_mb=None: 256 MB of max − min with no swap area is admitted; §6.2's one area of 200 MB refuses the second."""
    assert len(two_vms().vms) == 2
    with pytest.raises(esx.AdmissionError, match="swap reservation short"):
        two_vms(swap_mb=200)


def test_the_era_table_says_both_presets_sample_every_30_s_and_neither_tax_is_progressive():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    era = readme[readme.index("The two eras side by side"):readme.index("<!-- reproduce:begin")]
    row = next(line for line in era.splitlines() if line.startswith("| sampling period"))
    assert "vSphere 6.7 and 7.0 default to 60 s" in row and "sample_period_s=60" in row
    assert esx.HostConfig.esx2002().sample_period_s == esx.HostConfig.esxi6().sample_period_s == 30
    assert esx.HostConfig.esxi6(sample_period_s=60).sample_period_s == 60
    row = next(line for line in era.splitlines() if line.startswith("| idle memory tax"))
    assert "progressive, which esxlab does not model" in row


def test_the_readmes_list_of_the_papers_own_misfits_points_at_what_holds_each():
    from esxlab.experiments import fig2, fig6
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "Where the paper's own numbers do not fit together" in readme
    assert "1024 − 160 − (1105 − 254) = 13 MB" in readme and fig8.paper_free_bound()[5.0] == 13
    assert "`help(fig6)`" in readme and "The averages themselves" in fig6.__doc__
    assert "*sum of allocations after the change*" in readme
    assert fig7.run(0).row("sum of allocations after the change").note.startswith("fig7: the paper's allocations drop by 14")
    assert "1.7 % at 160 MB but 2.2 % at 192 MB" in readme and "1.7 % at 160 MB" in fig2.NOT_MONOTONIC
