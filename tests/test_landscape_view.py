"""The landscape's legend can be read: the diagonal's swatch shows on the legend's background,
and the items of a row stand apart at every text scale."""
from bokeh.colors import named

from explorer.views import LandscapeView
from explorer.views.base import FONTS, scale_fonts


def luminance(colour: str) -> float:
    """WCAG relative luminance of a '#rrggbb' or named colour."""
    if not colour.startswith("#"):
        colour = getattr(named, colour).to_hex()
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_diagonals_swatch_shows_on_the_legends_background():
    # the diagonal was a white dashed line only: its swatch vanished on the white legend
    view = LandscapeView()
    legend = view.figure.legend[0]
    item = next(i for i in legend.items if getattr(i.label, "value", None) == "t = φ")
    colours = [r.glyph.line_color for r in item.renderers]
    assert max(contrast(c, legend.background_fill_color) for c in colours) >= 4.5, colours
    assert "white" in colours       # and the white dashes still stand out on the dark colour map


def test_the_legends_items_stand_apart_at_every_scale():
    # 1 px between items: a row read "M: θ moves ↔★ now"
    view = LandscapeView()
    legend = view.figure.legend[0]
    assert legend.spacing >= 0.4 * FONTS["legend"]
    for percent in (150, 200, 100):
        scale_fonts(view.figure, percent)
        assert legend.spacing >= 0.4 * FONTS["legend"] * percent / 100, (percent, legend.spacing)
        assert legend.label_text_font_size == f"{round(FONTS['legend'] * percent / 100)}px"
