"""Interactive views for the notebooks (ipywidgets + bqplot). The model never imports this.

    from esxlab import views
    dash = views.SimDashboard(esx.HostConfig(memory_mb=256), [(esx.VMConfig(name="a"), "dbench")])
    dash            # in a notebook cell: sliders, memory bar, time series, pmap, states, "why"
"""
from .components import CounterTable, MemoryBar, PaperTable, PmapGrid, StateStrip, TimeSeries, WhyPanel
from .controls import control
from .dashboards import Dashboard, ExperimentDashboard, Run, SimDashboard
from .eras import EraDashboard
from .lesson import Prediction, Question

__all__ = ["CounterTable", "Dashboard", "EraDashboard", "ExperimentDashboard", "MemoryBar", "PaperTable", "PmapGrid", "Prediction", "Question",
           "Run", "SimDashboard", "StateStrip", "TimeSeries", "WhyPanel", "control"]
