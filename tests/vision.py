"""Colours as students with colour-vision deficiencies see them, for the palette's tests: Machado, Oliveira & Fernandes
(IEEE TVCG 2009) at severity 1 on linear sRGB, CIELAB (D65), and CIEDE2000 differences, all from the colour-science
library."""
from __future__ import annotations

import warnings

import numpy as np

PRINT_OPTIONS = np.get_printoptions()
with warnings.catch_warnings():             # colour-science warns of optional libraries it lacks, and that its
    warnings.simplefilter("ignore")         # tritanomaly matrices use another shift domain (Machado's own table)
    import colour
    MACHADO = {vision: colour.matrix_cvd_Machado2009(kind, 1.0)
               for vision, kind in (("protanopia", "Protanomaly"), ("deuteranopia", "Deuteranomaly"),
                                    ("tritanopia", "Tritanomaly"))}
np.set_printoptions(**PRINT_OPTIONS)        # its import sets numpy's legacy="1.13" reprs for the whole process

#: the least CIEDE2000 difference between two colours a chart must tell apart, in normal vision and under each
#: simulated deficiency (about the difference between two clearly different named colours; invented)
DISTINCT = 10.0
VISIONS = ("normal", *MACHADO)


def seen_lab(color: str, vision: str = "normal") -> np.ndarray:
    """CIELAB (D65) of ``color`` ("#RRGGBB") as seen with ``vision`` (one of :data:`VISIONS`)."""
    rgb = colour.cctf_decoding(colour.notation.HEX_to_RGB(color), function="sRGB")
    if vision != "normal":
        rgb = np.clip(MACHADO[vision] @ rgb, 0, 1)
    return colour.XYZ_to_Lab(colour.RGB_to_XYZ(rgb, "sRGB", apply_cctf_decoding=False))


def difference(a: str, b: str) -> float:
    """The least CIEDE2000 difference of colours ``a`` and ``b`` over :data:`VISIONS`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return min(float(colour.delta_E(seen_lab(a, v), seen_lab(b, v), method="CIE 2000")) for v in VISIONS)
