"""Charts of the Relazione sulla Performance, as PNG images (matplotlib, Agg backend: no display needed).

Sized for an A4 page (16 cm wide, 200 dpi) and readable in black and white: every bar carries its figure and
is coloured by its band (the legend lists only the bands and states drawn); a value that is not a result (non
rendicontato, non disponibile, neutralizzato, escluso, non applicabile, non valutato) is a hatched bar with its
word, never a plain 0; the 100% line and the band limits are drawn and labelled above the bars, where no figure
is written. One font family, Carlito (the metric twin of Calibri), as in the Relazione's text.
"""

from __future__ import annotations

import io
import textwrap

from ..core.italian import number as italian_number

WIDTH_IN = 6.3  # 16 cm
DPI = 200
LEGEND_IN = 0.85  # the bottom margin: the x axis, its label and one row of legend
PER_IMAGE = 25  # bars per image: more go on the next image, so a plan of 200 sectors stays readable
GREEN, AMBER, RED, GREY = "#4E9A52", "#E0A526", "#C0392B", "#9E9E9E"
FONT = "Carlito"  # the Relazione's family; matplotlib falls back to its own sans when it is not installed
#: bar colours by the rank of a band (best first); the lowest band is always red
BAND_COLOURS = ["#375623", "#70AD47", "#A9D18E", "#FFC000", "#ED7D31", "#C00000"]
#: the word of each state that is not a result, and its hatch
STATE_WORDS = {"missing": ("non rendicontato (vale 0)", "////"), "not_available": ("non disponibile (vale 0)", "xxxx"),
               "neutralised": ("neutralizzato dal Nucleo", "\\\\"), "excluded": ("escluso dal calcolo", ".."),
               "not_applicable": ("non applicabile", "--"), "unscored": ("non valutato", "....")}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [FONT, "Liberation Sans", "DejaVu Sans"]
    return plt


def band_colours(codes: list[str]) -> dict[str, str]:
    """Band code (best first) -> colour; the lowest band red."""
    out = {c: BAND_COLOURS[min(k, len(BAND_COLOURS) - 2)] for k, c in enumerate(codes)}
    if codes:
        out[codes[-1]] = BAND_COLOURS[-1]
    return out


def _legend(ax, items: list[tuple[str, dict]]) -> None:
    """A legend of exactly the bands and states drawn, at the foot of the figure (its margin leaves room)."""
    from matplotlib.patches import Patch

    if not items:
        return
    handles = [Patch(label=label, **style) for label, style in items]
    ax.figure.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.005), ncol=min(4, len(handles)),
                     fontsize=7, frameon=False, handlelength=1.6, columnspacing=1.2)


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
    fig.subplots_adjust(left=0.41, right=0.98, top=1 - 0.45 / height_in, bottom=LEGEND_IN / height_in)


def chunks(items: list, size: int = PER_IMAGE) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def _bars_figure(plt, count: int):
    """A figure for ``count`` horizontal bars, top to bottom: (figure, axes, y of each bar)."""
    n = max(1, count)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.2 + LEGEND_IN - 0.55 + 0.42 * n))
    return fig, ax, list(range(n))[::-1]


def overview_chart(rows: list[dict], bands: list[tuple[float, str]], precision: int, title: str,
                   labels: dict[str, str] | None = None) -> bytes:
    """Sector scores (0-100) against the band limits. ``rows``: {label, score (None: not scored), band, note};
    ``labels``: band code -> its word (Eccellente…), for the legend."""
    plt = _pyplot()
    fig, ax, ys = _bars_figure(plt, len(rows))
    n = len(ys)
    codes = [code for _, code in sorted(bands, key=lambda b: -b[0])]
    colours = band_colours(codes)
    drawn: list[tuple[str, dict[str, object]]] = []
    seen: set[str] = set()
    for y, r in zip(ys, rows, strict=False):
        if r["score"] is None:
            ax.barh(y, 100, color="none", edgecolor=GREY, hatch="////", linewidth=0.6)
            ax.text(2, y, r.get("note") or "non valutato", va="center", fontsize=8, style="italic",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            key = "unscored"
            style: dict[str, object] = {"facecolor": "none", "edgecolor": GREY, "hatch": "////"}
            label = "non valutato"
        else:
            score = r["score"]
            key = r.get("band") or ""
            style = {"facecolor": colours.get(key, AMBER), "edgecolor": "black", "linewidth": 0.4}
            label = f"fascia {key}" + (f" ({labels[key]})" if labels and key in labels else "")
            ax.barh(y, score, color=style["facecolor"], edgecolor="black", linewidth=0.4)
            text = f"{italian_number(score, precision)} ({r['band']})"
            ax.text(1.5, y, text, va="center", fontsize=8,  # at the bar's base: no band line reaches it
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8, "alpha": 0.9})
        if key not in seen:
            seen.add(key)
            drawn.append((key, {"label": label, **style}))
    limits = sorted((max(0.0, min(100.0, lo)), code) for lo, code in bands)
    for k, (lo, code) in enumerate(limits):  # a dotted line at each limit, labelled above the bars
        hi = limits[k + 1][0] if k + 1 < len(limits) else 100.0
        if 0 < lo < 100:
            ax.axvline(lo, color="black", linestyle=":", linewidth=0.8, zorder=0)
            ax.text(lo, n - 0.45, italian_number(lo, 0), fontsize=6.5, ha="center", va="bottom", zorder=3,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6})
        if hi > lo:
            ax.text((lo + hi) / 2, n - 0.05, code, fontsize=7, ha="center", va="bottom", weight="bold")
    order = {c: i for i, c in enumerate(codes)}
    drawn.sort(key=lambda kv: order.get(kv[0], len(order)))
    _legend(ax, [(str(d["label"]), {k: v for k, v in d.items() if k != "label"}) for _, d in drawn])
    ax.set_yticks(ys)
    ax.set_yticklabels([_label(r["label"]) for r in rows], fontsize=8)
    ax.set_xlim(0, 118)
    ax.set_ylim(-0.6, n + 0.5)
    ax.set_xticks(range(0, 101, 10))
    ax.set_xlabel("Punteggio (0-100); linee punteggiate: limiti delle fasce", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(title, fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _margins(fig, fig.get_figheight())
    return _png(fig)


def objectives_chart(rows: list[dict], precision: int, title: str, bands: list[tuple[float, str]] | None = None
                     ) -> bytes:
    """Objective achievements (0-100%) with the 100% line. ``rows``: {label, achievement (0..1 or None), state,
    band} where state is "scored", "missing" (non rendicontato), "not_available" (non disponibile), "neutralised",
    "not_applicable", "excluded" (left out of the score) or "unscored" (the sector is not scored: ``note`` says
    why). A scored bar is coloured by its band (``bands``: (limit, code)), else green when ``reached``, amber."""
    plt = _pyplot()
    fig, ax, ys = _bars_figure(plt, len(rows))
    n = len(ys)
    codes = [code for _, code in sorted(bands or [], key=lambda b: -b[0])]
    colours = band_colours(codes)
    drawn: dict[str, tuple[str, dict]] = {}
    for y, r in zip(ys, rows, strict=False):
        state, ach = r["state"], r.get("achievement")
        if state in STATE_WORDS:
            word, hatch = STATE_WORDS[state]
            note = r.get("note") if state == "unscored" else None
            ax.barh(y, 100, color="none", edgecolor=GREY, hatch=hatch, linewidth=0.6)
            ax.text(2, y, note or word, va="center", fontsize=8, style="italic",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            drawn.setdefault(state, (word, {"facecolor": "none", "edgecolor": GREY, "hatch": hatch}))
            continue
        pct = (ach or 0.0) * 100
        band = r.get("band") or ""
        if band in colours:
            color, key, word = colours[band], band, f"fascia {band}"
        else:
            color = GREEN if r.get("reached") else RED if pct == 0 else AMBER
            key, word = color, "raggiunto" if r.get("reached") else "non raggiunto" if pct == 0 else \
                "parzialmente raggiunto"
        ax.barh(y, pct, color=color, edgecolor="black", linewidth=0.4)
        ax.text(1.5, y, italian_number(pct, precision) + "%", va="center", fontsize=8,  # at the bar's base
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8, "alpha": 0.9})
        drawn.setdefault(key, (word, {"facecolor": color, "edgecolor": "black", "linewidth": 0.4}))
    ax.axvline(100, color="black", linestyle="--", linewidth=0.9, zorder=0)
    ax.text(101, n - 0.45, "target 100%", fontsize=7, va="bottom", ha="left")  # beside the line, never on it
    order = {c: i for i, c in enumerate(codes)}
    items = sorted(drawn.items(), key=lambda kv: order.get(kv[0], len(order)))
    _legend(ax, [(word, style) for _, (word, style) in items])
    ax.set_yticks(ys)
    ax.set_yticklabels([_label(r["label"]) for r in rows], fontsize=8)
    ax.set_xlim(0, 125)
    ax.set_ylim(-0.6, n + 0.3)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xticklabels([f"{x}%" for x in range(0, 101, 20)], fontsize=8)
    ax.set_xlabel("Grado di raggiungimento", fontsize=8)
    ax.set_title(title, fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _margins(fig, fig.get_figheight())
    return _png(fig)
