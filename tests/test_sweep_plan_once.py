"""``python -m esxlab sweep`` checks and plans its grid once (:class:`~esxlab.experiments.sweeps.Plan`), and
prints what :func:`~esxlab.experiments.sweep` returns for the same grid."""
from esxlab import experiments as E
from esxlab.__main__ import main
from esxlab.experiments import sweeps

ARGV = ["sweep", "remap_io", "--param", "minutes=1,2", "--seeds", "0"]


def test_one_cli_sweep_builds_one_plan(monkeypatch, capsys):
    built = []
    real = sweeps.Plan.__init__

    def counted(self, *args, **kwargs):
        built.append(args[0] if args else kwargs["name"])
        real(self, *args, **kwargs)

    monkeypatch.setattr(sweeps.Plan, "__init__", counted)
    assert main(ARGV) == 0
    assert built == ["remap_io"], f"{len(built)} plans built for one sweep"
    out = capsys.readouterr().out
    table = E.sweep("remap_io", {"minutes": [1, 2]}, 0)
    assert out.startswith(E.render_table(table.summary()) + "\n\n2 runs of remap_io (2 grid points × 1 seed), ")
    assert out.rstrip().endswith("s, 1 worker")


def test_sweep_is_its_plan_run():
    plan = sweeps.Plan.of("remap_io", {"minutes": [1, 2]}, "0")
    assert (plan.jobs, plan.scheduler, plan.workers) == (1, None, 1)
    assert plan.run() == E.sweep("remap_io", {"minutes": [1, 2]}, "0")
