"""A training dashboard: move a learning-rate and an epochs slider and watch the line fit.

Split by concern: :mod:`~helpers.dashboard.runs` trains every learning rate of both losses
in one batched run (equal to :func:`helpers.train`), :mod:`~helpers.dashboard.drawing`
turns one state into a PNG, and :mod:`~helpers.dashboard.controls` holds the widgets.
Only core ipywidgets and a Matplotlib PNG are used, which works in JupyterLab
(ipywidgets 8) and Colab (ipywidgets 7.7.1); ipywidgets is imported when a dashboard is
built, not when ``helpers`` is imported. The one public name is :func:`training_dashboard`.
"""

from .controls import training_dashboard

__all__ = ["training_dashboard"]
