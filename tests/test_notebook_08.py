"""Notebook 08 · Hot I/O page remapping (paper §7; notebooks/08_io_remapping.ipynb): its prose, reveals, guards, Try it
and questions."""
from __future__ import annotations

import esxlab as esx
from esxlab.config import RemapConfig
from esxlab.views.lesson import Prediction

from notebook_cells import question, text_by_id


def test_08_remap_failed_counts_page_seconds_and_moved_back_needs_cold_pages():
    text = text_by_id("08_io_remapping", "08-20")
    assert "`remap_failed` counts page-seconds" in text and "`RemapConfig.window_s`, 10 s" in text
    assert RemapConfig().window_s == 10
    host = esx.Host(esx.HostConfig(memory_mb=256, swap_mb=512, remap=RemapConfig(low_memory_mb=4, threshold=16)),
                    seed=0)
    for i in range(3):
        host.power_on(esx.VMConfig(name=f"net{i}", max_mb=64, overhead_mb=4),
                      workload=esx.workloads.NetServer(buffers=2000))
    host.run(minutes=1)
    first = host.remap.stats()
    host.run(minutes=1)
    second = host.remap.stats()
    assert first.low_free_mb == 0 and second.remapped_pages == first.remapped_pages
    # every second, each of the 6000 hot buffers not remapped counts once more
    assert second.remap_failed - first.remap_failed == 60 * (3 * 2000 - second.remapped_pages)
    assert second.moved_back == 0, "every buffer stays hot: none goes cold, none moves back"


def test_lessons_08_and_11_name_the_2_minute_factor_and_the_pass_in_milliseconds():
    """08's factor after an hour, answered with the worked example's 2-minute factor (234), and 11's KSM pass in
    milliseconds got the general hint."""
    hour = question("08_io_remapping", "after one hour")
    assert "2 minutes" in hour.check("234").message and hour.check("7031").correct
    ksm = question("11_esx_vs_ksm", "KSM scans 100 pages every 20 ms")
    assert "milliseconds" in ksm.check("419430.4").message


def test_a_factor_box_takes_a_plain_number_and_the_factor_question_of_lesson_08_its_mark():
    assert Prediction("How many times more?", unit="×", lo=0, hi=50).record("2") == 2.0
    for typed in ("7031×", "7031 times", "7031"):
        assert question("08_io_remapping", "answer=7031.25").check(typed).correct, typed
