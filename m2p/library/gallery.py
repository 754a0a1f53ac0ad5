"""A static gallery of a library table: one HTML page, no server.

>>> from m2p.library.gallery import write_gallery
>>> write_gallery("library.parquet", "site/")                  # doctest: +SKIP
PosixPath('site/index.html')

Each track gets a card: its whole-piece swatches, its palette timeline (inline SVG: one column
per analysis window, one band per colour slot), its mood and valence-arousal, and an audio
player when the file is reachable from the page (a relative link). The page names files by
their path inside the library root (by default the folder holding the table), never by an
absolute path, and a table whose rows point outside that root (``path=/etc/passwd``) is
refused: a published page links to the library and nothing else. The page sorts by valence,
arousal, name or duration and filters by mood; the state lives in the URL fragment
(``index.html#sort=valence-desc&mood=calm``), so a view can be bookmarked. The page has no
external resources: it works from a file, offline.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from m2p._internal.extras import translating
from m2p.errors import InvalidArgumentError, OutputError

__all__ = ["gallery_html", "write_gallery"]

#: Sort orders the page offers: fragment value -> label.
SORTS = {
    "valence-desc": "valence, high first", "valence-asc": "valence, low first",
    "arousal-desc": "arousal, high first", "arousal-asc": "arousal, low first",
    "name-asc": "name", "duration-desc": "duration, longest first",
}
# Timeline drawing box (SVG user units; the picture stretches to the card's width).
_TIMELINE_W, _TIMELINE_H = 1000.0, 48.0
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


@translating("write_gallery")
def write_gallery(library: str | os.PathLike[str], folder: str | os.PathLike[str], *,
                  title: str = "music2palette library",
                  root: str | os.PathLike[str] | None = None) -> Path:
    """Write ``folder/index.html`` for a library table (made by :func:`m2p.batch`).

    Parameters
    ----------
    library
        The ``.parquet`` table.
    folder
        Output folder (created if its parent exists); audio links are relative to it.
    title
        Page title.
    root
        The library root: every row's file must lie inside it (default: the folder holding
        ``library``); the page names files by their path inside it.

    Returns
    -------
    Path
        The page written (atomically: a previous page stays whole until the new one is).

    Raises
    ------
    InvalidArgumentError
        ``library`` is not a library table, a row is not what :func:`m2p.batch` writes
        (:func:`m2p.library.table.check_row`), or a row's file lies outside ``root``.
    OutputError
        ``folder`` cannot be created or written, or its page would overwrite the table.
    """
    from m2p._internal.outputs import atomic_output, check_output
    from m2p.library.table import library_rows

    rows = library_rows(library)
    base = Path(os.path.abspath(os.path.dirname(os.path.abspath(library)) if root is None
                                else os.path.expanduser(os.fspath(root))))
    _confined(rows, base, library, given=root is not None)
    out_dir = Path(folder)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError("gallery output must be a folder", source=out_dir)
    if not out_dir.parent.is_dir():
        raise OutputError(f"folder {str(out_dir.parent)!r} does not exist", source=out_dir)
    try:
        out_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder: {exc.strerror or exc}", source=out_dir) from None
    page = check_output(out_dir / "index.html", inputs=(library,), suffixes=[".html"])
    text = gallery_html(rows, base=out_dir, title=title, root=base)
    with atomic_output(page) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return page


def gallery_html(rows: list[dict[str, Any]], *, base: str | os.PathLike[str] | None = None,
                 title: str = "music2palette library",
                 root: str | os.PathLike[str] | None = None) -> str:
    """The page for library rows (dicts of :func:`m2p.library.table.library_schema`, checked by
    :func:`m2p.library.table.library_rows`); audio links are made relative to ``base`` (None:
    no players) for files inside ``root`` (None: no players either), and files are named by
    their path inside ``root`` (their file name without one)."""
    good = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    moods = Counter(r["mood"] for r in good)
    mood_options = "".join(f'<option value="{html.escape(m)}">{html.escape(m)} ({n})</option>'
                           for m, n in sorted(moods.items()))
    sort_options = "".join(f'<option value="{k}">{html.escape(v)}</option>' for k, v in SORTS.items())
    cards = "\n".join(_card(r, base, root) for r in sorted(good, key=lambda r: _name(r).lower()))
    errors = ""
    if failed:
        items = "".join(f"<li>{html.escape(_name(r))}: {html.escape(_reason(r))}</li>"
                        for r in failed)
        errors = f'<details class="errors"><summary>{len(failed)} not analysed</summary><ul>{items}</ul></details>'
    return _PAGE.format(title=html.escape(title), count=len(good), sorts=sort_options,
                        moods=mood_options, cards=cards, errors=errors, script=_SCRIPT,
                        style=_STYLE)


def _card(row: dict[str, Any], base: str | os.PathLike[str] | None,
          root: str | os.PathLike[str] | None) -> str:
    name = _name(row)
    swatches = swatch_html(row["palette"])
    inside = root is not None and _inside(row.get("path") or "", root)
    shown = os.path.relpath(os.path.abspath(row["path"]), root) if inside else name
    audio = ""
    if base is not None and inside and os.path.isfile(row["path"]):
        link = quote(Path(os.path.relpath(row["path"], base)).as_posix())
        audio = f'<audio controls preload="none" src="{link}"></audio>'
    minutes, seconds = divmod(int(round(row["duration"])), 60)
    return (
        f'<article class="card" data-name="{html.escape(name.lower())}" '
        f'data-valence="{row["valence"]:.4f}" data-arousal="{row["arousal"]:.4f}" '
        f'data-duration="{row["duration"]:.2f}" data-mood="{html.escape(row["mood"])}">'
        f'<header><h2 title="{html.escape(shown)}">{html.escape(name)}</h2>'
        f'<span class="meta">{minutes}:{seconds:02d} · <b class="mood">{html.escape(row["mood"])}</b>'
        f' · valence {row["valence"]:+.2f} · arousal {row["arousal"]:+.2f}</span></header>'
        f'<div class="swatches">{swatches}</div>{_timeline_svg(row)}{audio}</article>'
    )


def swatch_html(codes: list[str]) -> str:
    """The swatches of a palette on a card. A swatch keeps its exact colour (it is the
    palette); one with WCAG contrast below 3:1 on the card (a near-black on the dark page)
    gets an inset outline that has 3:1 there (:func:`m2p.colour.legibility.outline_color`),
    so every swatch can be seen."""
    from m2p.colour.legibility import outline_color

    out = []
    for code in codes:
        colour = _colour(code)
        outline = outline_color(colour, CARD_BACKGROUND)
        edge = f";box-shadow:inset 0 0 0 2px {outline}" if outline else ""
        out.append(f'<span class="swatch" style="background:{colour}{edge}" title="{colour}">'
                   '</span>')
    return "".join(out)


CARD_BACKGROUND = "#1d1f26"
"""Background of a track's card (the swatches and timeline land on it)."""


def _timeline_svg(row: dict[str, Any]) -> str:
    """One column per window (edges halfway between window centres), one band per slot."""
    track = json.loads(row["track"])
    times, duration = track["times"], track["duration"]
    edges = [0.0] + [(a + b) / 2 for a, b in zip(times, times[1:])] + [duration]
    scale = _TIMELINE_W / duration
    rects = []
    for i, palette in enumerate(track["palettes"]):
        x0, x1 = edges[i] * scale, edges[i + 1] * scale
        band = _TIMELINE_H / len(palette["hex"])
        rects.extend(f'<rect x="{x0:.2f}" y="{k * band:.2f}" width="{x1 - x0 + 0.3:.2f}" '
                     f'height="{band + 0.3:.2f}" fill="{_colour(h)}"/>' for k, h in enumerate(palette["hex"]))
    return (f'<svg class="timeline" viewBox="0 0 {_TIMELINE_W:g} {_TIMELINE_H:g}" '
            f'preserveAspectRatio="none" shape-rendering="crispEdges" role="img" aria-label="palette timeline">{"".join(rects)}</svg>')


def _colour(code: str) -> str:
    """A hex code as written by the library, or grey for anything else (a table is data: it
    must not be able to inject markup)."""
    return code if _HEX.fullmatch(str(code)) else "#808080"


def _name(row: dict[str, Any]) -> str:
    return os.path.basename(row.get("path") or "") or "(unnamed)"


def _reason(row: dict[str, Any]) -> str:
    """An error row's reason without the absolute path it starts with (a published page
    names files by name only)."""
    text, path = str(row.get("error") or ""), str(row.get("path") or "")
    return text[len(path) + 2:] if path and text.startswith(path + ": ") else text


def _inside(path: str, root: str | os.PathLike[str]) -> bool:
    """Is ``path`` inside ``root`` (lexically, after ``..`` and ``.`` are resolved)?"""
    if not path:
        return False
    full, top = os.path.abspath(path), os.path.abspath(root)
    return os.path.commonpath([full, top]) == top


def _confined(rows: list[dict[str, Any]], root: Path, library: Any, *, given: bool) -> None:
    """Refuse the first row whose file lies outside ``root``."""
    for number, row in enumerate(rows, 1):
        path = row.get("path")
        if isinstance(path, str) and path and not _inside(path, root):
            hint = "" if given else " (the folder holding the table; give --root for music elsewhere)"
            raise InvalidArgumentError(f"row {number}: path {path!r} lies outside the library "
                                       f"root {str(root)!r}{hint}", source=library)


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#14151a;color:#e8e8ec}
header.top{position:sticky;top:0;background:#1d1f26;padding:10px 18px;display:flex;gap:16px;
 align-items:center;flex-wrap:wrap;border-bottom:1px solid #333;z-index:1}
header.top h1{font-size:17px;margin:0 12px 0 0}
select{background:#2a2d36;color:#e8e8ec;border:1px solid #444;border-radius:4px;padding:3px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px;padding:16px}
.card{background:#1d1f26;border-radius:8px;padding:10px 12px;border:1px solid #2c2f38}
.card[hidden]{display:none}
.card h2{font-size:14px;margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.meta{color:#a4a7b3;font-size:12px}
.swatches{display:flex;height:46px;margin:8px 0 6px;border-radius:4px;overflow:hidden}
.swatch{flex:1}
.timeline{display:block;width:100%;height:40px;border-radius:3px;box-shadow:0 0 0 1px #7a7d88}
audio{width:100%;height:30px;margin-top:6px}
.errors{margin:0 16px 16px;color:#e0a0a0}
"""

_SCRIPT = """
(function(){
  var main=document.querySelector('main'), sortSel=document.getElementById('sort'),
      moodSel=document.getElementById('mood'), shown=document.getElementById('shown');
  var cards=Array.prototype.slice.call(main.querySelectorAll('.card'));
  function state(){var s={};location.hash.replace(/^#/,'').split('&').forEach(function(kv){
    var p=kv.split('=');if(p[0])s[decodeURIComponent(p[0])]=decodeURIComponent(p[1]||'');});return s;}
  function apply(){
    var key=sortSel.value.split('-'), field=key[0], dir=key[1]==='desc'?-1:1, mood=moodSel.value;
    cards.sort(function(a,b){var x=a.dataset[field],y=b.dataset[field];
      if(field!=='name'){x=parseFloat(x);y=parseFloat(y);}
      return x<y?-dir:x>y?dir:0;});
    var n=0;cards.forEach(function(c){main.appendChild(c);
      c.hidden=!!mood&&c.dataset.mood!==mood;if(!c.hidden)n++;});
    shown.textContent=n;
  }
  function fromHash(){var s=state();
    if(s.sort&&sortSel.querySelector('option[value="'+s.sort+'"]'))sortSel.value=s.sort;
    if(s.mood!==undefined&&(s.mood===''||moodSel.querySelector('option[value="'+s.mood+'"]')))moodSel.value=s.mood;
    apply();}
  function toHash(){history.replaceState(null,'','#sort='+encodeURIComponent(sortSel.value)+
    '&mood='+encodeURIComponent(moodSel.value));apply();}
  sortSel.addEventListener('change',toHash);moodSel.addEventListener('change',toHash);
  window.addEventListener('hashchange',fromHash);
  fromHash();document.body.dataset.ready='yes';
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title}</title><style>{style}</style></head>
<body>
<header class="top"><h1>{title}</h1>
<label>sort <select id="sort">{sorts}</select></label>
<label>mood <select id="mood"><option value="">all</option>{moods}</select></label>
<span class="meta"><span id="shown">{count}</span> of {count} tracks</span></header>
<main>
{cards}
</main>
{errors}
<script>{script}</script>
</body></html>
"""
