# JupyterLab settings for this repository (`make lab` passes this file with --config).
# Saving a notebook replaces its widget outputs by a "run the cells" note (esxlab/views/saves.py).
from esxlab.views.saves import pre_save

c.ContentsManager.pre_save_hook = pre_save  # noqa: F821  (c: the config object Jupyter provides)
