"""Bar charts as PNG, with Chinese labels on a machine that has no fonts of its own.

The font comes with the package (`mplfonts` ships Noto Sans CJK SC under the SIL Open
Font License; its other fonts are not used), registered with matplotlib by path, so a
fresh machine draws 计算机学院 instead of boxes. The Figure API and the Agg canvas:
no pyplot state shared between threads or charts.

matplotlib (with numpy and Pillow) is imported when the first chart is drawn, not when the
bot starts: it is about 40 MB of an idle `unionbot run` that draws no chart (issue 16).
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FONT_FILE = "NotoSansCJKsc-Regular.otf"
COLOURS = ("#2b6cb0", "#38a169", "#d69e2e", "#e53e3e", "#805ad5", "#319795", "#718096", "#dd6b20")


@dataclass(frozen=True, slots=True)
class Bars:
    """One panel: bars per category, one series each (stacked, or side by side)."""

    title: str
    categories: list[str]
    series: list[tuple[str, list[float | None]]]  # None: no figure (shown as —)
    stacked: bool = False
    percent: bool = False  # values are 0..1, shown as percentages


@cache
def font_path() -> Path:
    """The CJK font file shipped with the `mplfonts` wheel, registered with matplotlib."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mplfonts package (a dependency) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    return path


def font_family() -> str:
    from matplotlib import font_manager

    return font_manager.FontProperties(fname=str(font_path())).get_name()


def figure(title: str, panels: Sequence[Bars]) -> Figure:
    """The chart, not yet drawn: tests read its texts."""
    from matplotlib.figure import Figure

    family = font_family()
    fig = Figure(figsize=(9, 4.2 * max(1, len(panels))), dpi=100, layout="constrained")
    fig.suptitle(title, fontfamily=family, fontsize=14)
    for index, panel in enumerate(panels, start=1):
        ax = fig.add_subplot(len(panels), 1, index)
        _draw(ax, panel, family)
    return fig


def _draw(ax: object, panel: Bars, family: str) -> None:
    from matplotlib import font_manager
    from matplotlib.axes import Axes
    from matplotlib.ticker import MaxNLocator

    assert isinstance(ax, Axes)
    ax.set_title(panel.title, fontfamily=family, fontsize=12)
    positions = list(range(len(panel.categories)))
    count = max(1, len(panel.series))
    width = 0.8 if panel.stacked else 0.8 / count
    bottoms = [0.0] * len(positions)
    for n, (label, numbers) in enumerate(panel.series):
        scale = 100 if panel.percent else 1
        shown = [(v or 0) * scale for v in numbers]
        xs = positions if panel.stacked else [p - 0.4 + width * (n + 0.5) for p in positions]
        bars = ax.bar(
            xs,
            shown,
            width,
            bottom=bottoms if panel.stacked else None,
            label=label,
            color=COLOURS[n % len(COLOURS)],
        )
        ax.bar_label(
            bars,
            labels=[_label(v, panel.percent) for v in numbers],
            label_type="center" if panel.stacked else "edge",
            fontsize=8,
            fontfamily=family,
        )
        if panel.stacked:
            bottoms = [b + v for b, v in zip(bottoms, shown, strict=True)]
    if panel.stacked:
        for x, total in zip(positions, bottoms, strict=True):
            ax.annotate(f"{total:g}", (x, total), ha="center", va="bottom", fontsize=9)
        ax.set_ylim(0, max(bottoms, default=0) * 1.2 + 0.5)  # room for the totals and legend
    if not panel.percent:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xticks(positions, panel.categories, fontfamily=family, fontsize=9)
    if panel.percent:
        ax.set_ylim(0, 110)
    if panel.series:
        ax.legend(prop=font_manager.FontProperties(fname=str(font_path()), size=8))
    for tick in ax.get_yticklabels():
        tick.set_fontfamily(family)


def _label(value: float | None, percent: bool) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:g}" if value else ""


def png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(fig)  # attached to the figure: drawn by Agg, never by a GUI backend
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def texts(fig: Figure) -> list[str]:
    """Every text the chart shows (titles, ticks, legends, bar labels)."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]
