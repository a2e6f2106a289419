"""Charts of the Relazione sulla Performance, as PNG images (matplotlib, Agg backend: no display needed).

Sized for an A4 page (16 cm wide, 200 dpi) and readable in black and white: every bar carries its figure,
a missing value ("non rendicontato") is hatched and labelled, never drawn as a plain 0, an objective left out
of the score says so, and the 100% line and the band limits are drawn.
"""

from __future__ import annotations

import io
import textwrap

from ..core.italian import number as italian_number

WIDTH_IN = 6.3  # 16 cm
DPI = 200
PER_IMAGE = 25  # bars per image: more go on the next image, so a plan of 200 sectors stays readable
GREEN, AMBER, RED, GREY = "#4E9A52", "#E0A526", "#C0392B", "#9E9E9E"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})  # no timestamp: deterministic bytes
    _pyplot().close(fig)
    return buf.getvalue()


def _label(text: str, width: int = 30) -> str:
    return "\n".join(textwrap.wrap(text, width, max_lines=2, placeholder="…")) or " "


def _margins(fig, height_in: float) -> None:
    """Fixed margins (labels wrapped to two lines of 30 characters, capitals included, fit in the left one):
    no tight_layout, which lays every figure out twice."""
    fig.subplots_adjust(left=0.41, right=0.98, top=1 - 0.45 / height_in, bottom=0.55 / height_in)


def chunks(items: list, size: int = PER_IMAGE) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def _bars_figure(plt, count: int):
    """A figure for ``count`` horizontal bars, top to bottom: (figure, axes, y of each bar)."""
    n = max(1, count)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.2 + 0.42 * n))
    return fig, ax, list(range(n))[::-1]


def overview_chart(rows: list[dict], bands: list[tuple[float, str]], precision: int, title: str) -> bytes:
    """Sector scores (0-100) against the band limits. ``rows``: {label, score (None: not scored), band, note}."""
    plt = _pyplot()
    fig, ax, ys = _bars_figure(plt, len(rows))
    n = len(ys)
    for y, r in zip(ys, rows, strict=False):
        if r["score"] is None:
            ax.barh(y, 100, color="none", edgecolor=GREY, hatch="////", linewidth=0.6)
            ax.text(2, y, r.get("note") or "non valutato", va="center", fontsize=8, style="italic",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            continue
        score = r["score"]
        color = GREEN if r.get("top") else RED if r.get("bottom") else AMBER
        ax.barh(y, score, color=color, edgecolor="black", linewidth=0.4)
        text = f"{italian_number(score, precision)} ({r['band']})"
        ax.text(min(score, 100) + 1, y, text, va="center", fontsize=8)
    limits = sorted((max(0.0, min(100.0, lo)), code) for lo, code in bands)
    for k, (lo, code) in enumerate(limits):  # a dotted line at each limit, the band's code inside its zone
        hi = limits[k + 1][0] if k + 1 < len(limits) else 100.0
        if 0 < lo < 100:
            ax.axvline(lo, color="black", linestyle=":", linewidth=0.8)
        if hi > lo:
            ax.text((lo + hi) / 2, n - 0.45, code, fontsize=7, ha="center", va="bottom", weight="bold")
    ax.set_yticks(ys)
    ax.set_yticklabels([_label(r["label"]) for r in rows], fontsize=8)
    ax.set_xlim(0, 118)
    ax.set_ylim(-0.6, n + 0.2)
    ax.set_xticks(range(0, 101, 10))
    ax.set_xlabel("Punteggio (0-100); linee punteggiate: limiti delle fasce", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(title, fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _margins(fig, fig.get_figheight())
    return _png(fig)


def objectives_chart(rows: list[dict], precision: int, title: str) -> bytes:
    """Objective achievements (0-100%) with the 100% line. ``rows``: {label, achievement (0..1 or None), state}
    where state is "scored", "missing" (non rendicontato), "excluded" (left out of the score) or "unscored" (the
    sector is not scored: ``note`` says why)."""
    plt = _pyplot()
    fig, ax, ys = _bars_figure(plt, len(rows))
    n = len(ys)
    for y, r in zip(ys, rows, strict=False):
        state, ach = r["state"], r.get("achievement")
        if state == "unscored":
            ax.barh(y, 100, color="none", edgecolor=GREY, hatch="....", linewidth=0.6)
            ax.text(2, y, r.get("note") or "non valutato", va="center", fontsize=8, style="italic",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            continue
        if state == "excluded":
            ax.text(1, y, "escluso dal calcolo", va="center", fontsize=8, style="italic")
            continue
        if state == "missing":
            ax.barh(y, 100, color="none", edgecolor=GREY, hatch="////", linewidth=0.6)
            ax.text(2, y, "non rendicontato (vale 0)", va="center", fontsize=8, style="italic",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            continue
        pct = (ach or 0.0) * 100
        color = GREEN if r.get("reached") else RED if pct == 0 else AMBER
        ax.barh(y, pct, color=color, edgecolor="black", linewidth=0.4)
        ax.text(pct + 1, y, italian_number(pct, precision) + "%", va="center", fontsize=8)
    ax.axvline(100, color="black", linestyle="--", linewidth=0.9)
    ax.text(100, n - 0.45, " 100%", fontsize=7, va="bottom")
    ax.set_yticks(ys)
    ax.set_yticklabels([_label(r["label"]) for r in rows], fontsize=8)
    ax.set_xlim(0, 118)
    ax.set_ylim(-0.6, n + 0.2)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xticklabels([f"{x}%" for x in range(0, 101, 20)], fontsize=8)
    ax.set_xlabel("Grado di raggiungimento", fontsize=8)
    ax.set_title(title, fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _margins(fig, fig.get_figheight())
    return _png(fig)
