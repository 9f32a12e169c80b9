"""Lesson 07's admission helpers (``esxlab.problems.free_memory_states``): §6.2's rule, min + overhead
reserved in machine memory for each VM, decides the smallest host that powers all three on."""
from esxlab.problems.free_memory_states import lesson_vms, power_on_all, smallest_admitting_mb


def test_the_smallest_host_reserves_min_plus_overhead_for_each_vm():
    assert smallest_admitting_mb(lesson_vms(), swap_mb=512) == 3 * (32 + 32)
    assert smallest_admitting_mb(lesson_vms(max_mb=128, min_mb=40), swap_mb=512) == 3 * (40 + 32)


def test_a_refusal_is_the_sentence_for_the_vm_that_does_not_fit():
    assert power_on_all(lesson_vms(), memory_mb=192, swap_mb=512) is None
    refusal = power_on_all(lesson_vms(max_mb=128, min_mb=40), memory_mb=176, swap_mb=512)
    assert refusal.startswith("cannot power on 'vm2': memory reservation short by 40.0 MB"), refusal


def test_no_host_in_the_slider_range_admits_too_large_vms():
    assert smallest_admitting_mb(lesson_vms(max_mb=512, min_mb=512), swap_mb=512) is None
