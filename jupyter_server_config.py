# JupyterLab settings for this repository (`make lab` passes this file with --config).
# Saving a notebook replaces its widget outputs by a "run the cells" note (esxlab/views/saves.py).
import warnings

from esxlab.views.saves import pre_save

c.ContentsManager.pre_save_hook = pre_save  # noqa: F821  (c: the config object Jupyter provides)
# traitlets applies this config twice, and the second time warns that pre_save replaces pre_save: harmless
warnings.filterwarnings("ignore", message=r"Overriding existing pre_save_hook \(pre_save\) with a new one \(pre_save\)")
# Voilà inside JupyterLab (View → Render Notebook with Voilà, /voila/render/…) reads a markdown image through the
# server's contents manager without awaiting it (voila-dashboards/voila#1473): with jupyter_server's default, the
# asynchronous manager, every notebook with a picture hangs. The synchronous one (standalone voila's) renders them.
c.ServerApp.contents_manager_class = "jupyter_server.services.contents.largefilemanager.LargeFileManager"  # noqa: F821
