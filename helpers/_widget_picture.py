"""The picture both widgets send: an Agg canvas as PNG bytes, and display data that carry it.

The dashboard and ``fit_by_hand`` paint only their moving artists over a saved background,
send the result as a PNG, and offer the same PNG to viewers that cannot run widgets.
"""

from __future__ import annotations

import base64
import io
from typing import Any


def canvas_png(canvas: Any) -> bytes:
    """What an Agg ``canvas`` shows now (blitted artists included), as PNG bytes.

    Callers paint only their moving artists over a saved background first; fast
    compression keeps a move within a blink.
    """
    import PIL.Image

    width, height = canvas.get_width_height()
    image = PIL.Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def widget_bundle(model_id: str, png: bytes, text: str) -> dict[str, Any]:
    """A widget's display data with a PNG of its picture and a line of text beside it.

    JupyterLab and Colab render the widget; GitHub, nbviewer and nbconvert (which drop the
    widget mimetype when no widget state is stored) show the PNG, and plain consoles the text.
    """
    view = {"version_major": 2, "version_minor": 0, "model_id": model_id}
    return {
        "application/vnd.jupyter.widget-view+json": view,
        "image/png": base64.b64encode(bytes(png)).decode("ascii"),
        "text/plain": text,
    }
