"""What the held-out run writes: the Markdown tables (each preceded by its definition), a
short summary and the contact sheet of the picture songs' palettes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from training.heldout.evaluate import ALTERNATIVES
from training.heldout.files import GROUPS
from training.report import markdown_cell, markdown_table

__all__ = ["contact_sheet", "json_default", "results_markdown", "summary_lines"]


_SCORER_LABEL = {
    "music": "music emotion head (`Palette.valence_arousal`)",
    "palette": "palette colour emotion (`m2p.colour.emotion.palette_valence_arousal`)",
    "valdez_mehrabian": "Valdez & Mehrabian 1994 formulas on the palette",
    "vibenet": "teacher: vibenet (reference, not the model)",
    "musicnn": "teacher: musicnn zero-shot tags (reference, not the model)",
}


def results_markdown(res: Mapping[str, Any], heading: int = 3, note: str | None = None) -> str:
    """Markdown tables (each preceded by a one-line definition) and the group lists; ``note``
    (e.g. which held-out files an older model did train on) goes under the heading."""
    h = "#" * heading
    L: list[str] = []
    L += [f"{h} Held-out real music",
          "",
          f"Model `{res['model']}`, {res['n_files']} recordings ({res['audio_minutes']} min) from "
          f"whole Debian packages held out of training since model v2 "
          f"({', '.join(f'`{p}`' for p in res['packages'])}), "
          f"{res['evaluated_utc']}; `python -m training.heldout`"
          + (" (`--quick`: no musicnn)" if res.get("quick") else "") + ".", ""]
    if note or res.get("note"):
        L += [f"*Note:* {note or res.get('note')}", ""]
    if res.get("missing_packages"):
        L += [f"Packages not found: {', '.join(res['missing_packages'])}.", ""]

    L += ["**Mood ordering.** AUC (Mann-Whitney, ties 0.5) of the whole-piece score: arousal of "
          "the arousal-high vs arousal-low files, valence of the valence-positive vs "
          "valence-negative files; 0.5 = chance, 1 = perfect order. Valdez & Mehrabian: "
          "pleasure = 0.69 z(L*) + 0.22 z(C*), arousal = -0.31 z(L*) + 0.60 z(C*), z over the "
          "sRGB-gamut reference statistics of `m2p.colour.emotion`, mean over the palette.", ""]
    rows = []
    for scope, table in res["mood_ordering"].items():
        for name, r in table.items():
            n = r["n"]
            rows.append([scope, _SCORER_LABEL.get(name, name), r.get("arousal"), r.get("valence"),
                         f"{n['arousal'][0]} / {n['arousal'][1]}", f"{n['valence'][0]} / {n['valence'][1]}"])
    L += [markdown_table(["files", "score", "AUC arousal ↑", "AUC valence ↑", "n high / low", "n pos / neg"], rows), ""]

    L += ["**Hues by mood group.** Per song, the share of its chromatic colours (C* > 15) in "
          "blue-purple (h 200-320°), red (0-45° and 330-360°) and yellow (60-110°) hues, averaged "
          "over the group's songs that have a chromatic colour (expected: sad / calm -> blue, "
          "agitated -> red, happy -> yellow; Lindborg & Friberg 2015, Palmer et al. 2013).", ""]
    hrows = [[g, r["blue_purple"], r["red"], r["yellow"], f"{r['n_chromatic']} / {r['n']}"]
             for g, r in res["hue_shares"].items()]
    L += [markdown_table(["group", "blue-purple", "red", "yellow", "songs with chromatic colour"], hrows), ""]

    L += ["**Teacher agreement.** Spearman rank correlation over the held-out files between the "
          "model's whole-piece valence / arousal and vibenet's (valence / energy, mean over 10 s "
          "windows) or the zero-shot musicnn tag reading (`training.corpus.teachers."
          "tag_valence_arousal` of the patch-mean MTT_vgg and MSD_vgg tags); the teacher-teacher "
          "row is a reference for how far two independent listeners agree.", ""]
    arows = []
    names = {"music_va~vibenet": "model ~ vibenet", "music_va~musicnn_va": "model ~ musicnn tags",
             "vibenet~musicnn_va": "vibenet ~ musicnn tags (reference)",
             "palette_va~vibenet": "palette colour emotion ~ vibenet"}
    for scope, table in res["teacher_agreement"].items():
        for name, r in table.items():
            arows.append([scope, names.get(name, name), r["valence"], r["arousal"], r["n"]])
    L += [markdown_table(["files", "pair", "ρ valence ↑", "ρ arousal ↑", "n"], arows), ""]

    v = res["variety"]
    L += ["**Variety.** Whole-piece palettes (seed 0) of all held-out songs: hue bins = how many "
          "of the 12 hue bins of 30° hold >= 3 % of the chromatic colours (C* > 15); between-song "
          "distance = mean CIEDE2000 after Hungarian matching over all pairs of different songs' "
          "palettes; the same for the emotion-matched corpus palette of each song (kept corpus "
          "palette with the highest cosine between its `emotion_calibrated` and "
          "`va_to_emotion` of the song's predicted valence-arousal).", ""]
    vrows = [["model", v["hue_bins_covered"], v["between_songs_distance"], v["songs"], v["lengths"]["mean"]]]
    if "corpus_matched_distance" in v:
        vrows.append(["emotion-matched corpus palettes", v["corpus_matched_hue_bins_covered"],
                      v["corpus_matched_distance"], f"{v['corpus_matched_distinct']} distinct",
                      None])
        vrows.append(["ratio model / corpus", None, v["distance_ratio"], None, None])
    L += [markdown_table(["palettes", "hue bins ≥ 3 %", "between-song distance", "songs", "mean length"], vrows), ""]
    lens = [str(k) for k in range(3, 9)] + ["other"]
    lrows = [["model (held-out songs)", *[v["lengths"][k] for k in lens]]]
    if "corpus_lengths" in v:
        lrows.append([f"corpus (kept, {v['corpus_palettes']})", *[v["corpus_lengths"][k] for k in lens]])
    L += ["Palette length: share of palettes with each number of colours.", "",
          markdown_table(["palettes", *lens], lrows), ""]

    a = res["alternatives"]
    L += [f"**Alternatives.** `m2p.palettes(song, n={ALTERNATIVES})` at the default noise "
          f"(σ = {a['noise_scale']:g}) on {a['files']} songs: Multimodality = mean pairwise "
          "CIEDE2000 after matching between the alternatives; ES = cosine of `va_to_emotion(music "
          "VA)` and `palette_emotion(palette)`, for the alternatives and for the noise-free "
          "palette (`noise=0`); determinism = the same seed twice gives identical palettes.", ""]
    L += [markdown_table(["songs", "Multimodality", "distance to noise-free", "ES alternatives",
                  "ES noise-free", "ES difference", "same seed identical"],
                 [[a["files"], a["multimodality"], a.get("distance_to_noise_free"),
                   a["es_alternatives"], a["es_noise_free"], a.get("es_delta"),
                   bool(a["deterministic_palette"]) and a["deterministic_palettes"] is not False]]), ""]

    s = res.get("steadiness")
    if s:
        L += [f"**Steadiness.** `{s['file']}` from {s['excerpt'][0]:g} to {s['excerpt'][1]:g} s "
              f"looped to {s['seconds']:g} s (stationary music) through `m2p.palette_track` "
              "(10 s windows, 2.5 s hop): matched CIEDE2000 between consecutive windows' palettes, "
              "first and last window left out.", ""]
        L += [markdown_table(["windows", "pairs", "max", "mean"], [[s["windows"], s["pairs"], s["max"], s["mean"]]]), ""]

    L += ["**Groups** (file stems, written before any v2 result):", ""]
    for g, by_pkg in GROUPS.items():
        parts = "; ".join(f"{pkg}: {', '.join(stems)}" for pkg, stems in by_pkg.items())
        L.append(f"* {g.replace('_', ' ')}: {parts}")
    if res.get("missing_group_stems"):
        L += ["", f"Group files not found: {', '.join(res['missing_group_stems'])}."]
    L.append("")
    return "\n".join(L)


def summary_lines(res: Mapping[str, Any]) -> list[str]:
    """A short stdout summary."""
    o = res["mood_ordering"]["all"]
    ag = res["teacher_agreement"]["all"]
    v, a, s = res["variety"], res["alternatives"], res.get("steadiness") or {}
    out = [
        f"held-out files: {res['n_files']} ({res['audio_minutes']} min), model {res['model']}",
        "AUC arousal / valence: " + ", ".join(
            f"{k} {markdown_cell(r.get('arousal'))}/{markdown_cell(r.get('valence'))}" for k, r in o.items()),
        "Spearman model~vibenet v/a: {} / {}; model~musicnn: {} / {}".format(
            markdown_cell(ag["music_va~vibenet"]["valence"]), markdown_cell(ag["music_va~vibenet"]["arousal"]),
            markdown_cell(ag["music_va~musicnn_va"]["valence"]), markdown_cell(ag["music_va~musicnn_va"]["arousal"])),
        f"hue bins: {v['hue_bins_covered']}; between-song distance {markdown_cell(v['between_songs_distance'])}"
        f" vs corpus {markdown_cell(v.get('corpus_matched_distance'))} (ratio {markdown_cell(v.get('distance_ratio'))})",
        f"alternatives: MM {markdown_cell(a['multimodality'])}, ES delta {markdown_cell(a.get('es_delta'))}, "
        f"deterministic {a['deterministic_palette']}/{a['deterministic_palettes']}",
        f"steadiness: max {markdown_cell(s.get('max'))}, mean {markdown_cell(s.get('mean'))}",
        f"time: {res['timings'].get('total_s')} s",
    ]
    return out


def contact_sheet(res: Mapping[str, Any], path: str | os.PathLike[str], *, swatch: int = 44) -> None:
    """PNG: one row per picture song (name, groups, predicted VA, whole-piece palette)."""
    from PIL import Image, ImageDraw

    from m2p.palette_types import Palette
    from m2p.exporters.render import BACKGROUND, INK, FAINT_INK, palette_strip

    try:
        from m2p.exporters.render import _font
        font, small = _font(15), _font(12)
    except Exception:  # pragma: no cover - PIL's default font
        from PIL import ImageFont
        font = small = ImageFont.load_default()
    keys = res["picture_songs"]
    text_w, pad, row_h = 430, 10, swatch + 12
    width = text_w + 8 * swatch + 2 * pad
    height = pad * 2 + 30 + row_h * len(keys)
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    draw.text((pad, pad), f"Held-out songs, whole-piece palettes (seed 0) - model {res['model']}",
              fill=INK, font=font)
    short = {"arousal_high": "A+", "arousal_low": "A-", "valence_positive": "V+", "valence_negative": "V-"}
    for i, k in enumerate(keys):
        r = res["files"][k]
        y = pad + 30 + i * row_h
        pal = Palette.from_hex(r["hex"])
        img.paste(palette_strip(pal, swatch_size=swatch, labels=False), (text_w + pad, y))
        draw.text((pad, y + 4), f"{r['stem']}  ({r['package'].split('-')[0]})", fill=INK, font=font)
        grp = " ".join(short[g] for g in r["groups"]) or "-"
        va = r["music_va"]
        draw.text((pad, y + 24), f"groups {grp}   predicted v {va[0]:+.2f}  a {va[1]:+.2f}",
                  fill=FAINT_INK, font=small)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    img.save(str(path))


def json_default(o: Any) -> Any:
    """``json.dumps(default=...)`` for NumPy numbers and arrays and paths."""
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o).__name__)
