"""Controlled MIDI renders: music21 corpus tunes (and openMSX MIDI) rendered with fluidsynth.

Every tune is reduced to a plain note list, then varied along exactly one cue at a time
(tempo, loudness, register, major vs parallel minor) and written as a small format-0 MIDI file
by :func:`write_midi`, so that nothing but the manipulated cue changes between variants.
Renders are 22,050 Hz mono FLAC, never loudness-normalised (loudness is one of the cues).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from m2p.audio.decode import SAMPLE_RATE

TICKS = 480

# (name, glob inside music21's corpus, licence, base tempo in quarter notes per minute)
TUNE_SOURCES = (
    ("essen", "essenFolksong/*.abc", "Essen Folksong Collection (music21 corpus, free for research; see music21 corpus/license.txt)", 100.0),
    ("ryans", "ryansMammoth/*.abc", "Ryan's Mammoth Collection 1883 (public domain; music21 corpus)", 120.0),
    ("oneills", "oneills1850/*.abc", "O'Neill's Music of Ireland 1850 (public domain; music21 corpus)", 120.0),
    ("bach", "bach/bwv*.mxl", "J. S. Bach chorales (public domain; music21 corpus encoding BSD/CC, see music21 corpus/license.txt)", 80.0),
)

# General MIDI programs used for the melody; chosen per tune, fixed across its variants.
PROGRAMS = (0, 0, 48, 73, 24, 6, 11, 40, 68)

# Variant specs: (suffix, tempo_factor, mode, loudness, transpose). mode "original" keeps the tune.
VARIANTS_BASIC = (
    ("base", 1.0, "original", 1.0, 0),
    ("slow", 0.7, "original", 1.0, 0),
    ("fast", 1.4, "original", 1.0, 0),
    ("soft", 1.0, "original", 0.5, 0),
    ("loud", 1.0, "original", 1.5, 0),
    ("low", 1.0, "original", 1.0, -12),
    ("high", 1.0, "original", 1.0, 12),
    ("mode", 1.0, "swap", 1.0, 0),
)
VARIANTS_FULL_EXTRA = (
    ("vslow", 0.5, "original", 1.0, 0),
    ("vfast", 2.0, "original", 1.0, 0),
    ("mode_fast", 1.4, "swap", 1.0, 0),
    ("mode_slow", 0.7, "swap", 1.0, 0),
)


@dataclasses.dataclass
class Tune:
    tune_id: str
    source: str
    licence: str
    title: str
    notes: list  # (onset_q, dur_q, pitch, channel)
    tonic: int  # pitch class
    mode: str  # "major" | "minor"
    bpm: float
    program: int
    bar_q: float


def _music21_corpus_dir() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def _stable_hash(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:12], 16)


def _abc_tunes(path: Path) -> list[str]:
    text = path.read_text(encoding="latin-1")
    parts = ("\n" + text).split("\nX:")
    return ["X:" + p for p in parts[1:] if "K:" in p]


def _score_to_notes(score) -> tuple[list, float]:
    notes = []
    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    for ch, part in enumerate(parts[:4]):
        flat = part.stripTies().flatten()
        for el in flat.notes:
            dur = float(el.quarterLength)
            if dur <= 0:
                continue
            pitches = [p.midi for p in el.pitches]
            for p in pitches:
                notes.append((float(el.offset), dur, int(p), 0))
    ts = score.recurse().getElementsByClass("TimeSignature")
    bar_q = float(ts[0].barDuration.quarterLength) if len(ts) else 4.0
    return notes, bar_q


def load_tunes(n_per_source: int, seed: int = 0, log=print) -> list[Tune]:
    """Pick ``n_per_source`` tunes from each music21 source (deterministic)."""
    from music21 import converter

    root = _music21_corpus_dir()
    rng = np.random.default_rng(seed)
    tunes: list[Tune] = []
    for name, pattern, licence, bpm in TUNE_SOURCES:
        files = sorted(root.glob(pattern))
        if not files:
            log(f"  music21 corpus {pattern}: nothing found")
            continue
        got = 0
        tries = 0
        order = rng.permutation(len(files))
        while got < n_per_source and tries < n_per_source * 6:
            f = files[order[tries % len(files)]]
            tries += 1
            try:
                if f.suffix == ".abc":
                    items = _abc_tunes(f)
                    if not items:
                        continue
                    k = int(rng.integers(len(items)))
                    score = converter.parse(items[k], format="abc")
                    ref = f"{f.stem}-{k}"
                else:
                    score = converter.parse(str(f))
                    ref = f.stem
                tune_id = f"{name}-{ref}"
                if any(t.tune_id == tune_id for t in tunes):
                    continue
                notes, bar_q = _score_to_notes(score)
                if len(notes) < 16:
                    continue
                key = score.analyze("key")
                title = (score.metadata.title if score.metadata and score.metadata.title else ref) or ref
            except Exception as exc:  # malformed abc etc.
                log(f"  skip {f.name}: {type(exc).__name__}: {exc}")
                continue
            tunes.append(
                Tune(
                    tune_id=tune_id,
                    source=name,
                    licence=licence,
                    title=str(title),
                    notes=notes,
                    tonic=int(key.tonic.pitchClass),
                    mode=str(key.mode) if key.mode in ("major", "minor") else "major",
                    bpm=bpm,
                    program=PROGRAMS[_stable_hash(tune_id) % len(PROGRAMS)] if name != "bach" else (19 if _stable_hash(tune_id) % 2 else 48),
                    bar_q=bar_q if bar_q > 0 else 4.0,
                )
            )
            got += 1
        log(f"  music21 {name}: {got} tunes")
    return tunes


def swap_mode(pitch: int, tonic: int, mode: str) -> int:
    """Parallel major <-> minor: move scale degrees 3, 6 and 7 by a semitone."""
    rel = (pitch - tonic) % 12
    if mode == "major" and rel in (4, 9, 11):
        return pitch - 1
    if mode == "minor" and rel in (3, 8, 10):
        return pitch + 1
    return pitch


def variant_notes(tune: Tune, mode: str, transpose: int, min_seconds: float = 24.0, max_seconds: float = 60.0):
    """Note list for one variant (tempo is applied in the MIDI tempo event, not here)."""
    notes = list(tune.notes)
    if mode == "swap":
        notes = [(o, d, swap_mode(p, tune.tonic, tune.mode), c) for o, d, p, c in notes]
    end_q = max(o + d for o, d, _, _ in notes)
    end_q = float(np.ceil(end_q / tune.bar_q) * tune.bar_q)
    # simple tonic bass, one note per bar, on channel 1 (keeps the key audible for folk melodies)
    lowest = min(p for _, _, p, _ in notes)
    bass_pitch = lowest - 12 - ((lowest - 12 - tune.tonic) % 12)
    bass_pitch = max(bass_pitch, 28)
    bars = int(round(end_q / tune.bar_q))
    bass = [(b * tune.bar_q, tune.bar_q * 0.9, bass_pitch, 1) for b in range(bars)]
    notes = notes + bass
    # repeat the tune so that the base render lasts at least min_seconds
    sec_per_q = 60.0 / tune.bpm
    reps = max(1, int(np.ceil(min_seconds / (end_q * sec_per_q))))
    out = []
    for r in range(reps):
        out += [(o + r * end_q, d, p, c) for o, d, p, c in notes]
    max_q = max_seconds / sec_per_q
    out = [(o, min(d, max_q - o), p + transpose, c) for o, d, p, c in out if o < max_q]
    return [(o, d, int(np.clip(p, 12, 115)), c) for o, d, p, c in out]


def _varlen(n: int) -> bytes:
    buf = [n & 0x7F]
    n >>= 7
    while n:
        buf.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(buf))


def write_midi(path: Path, notes, bpm: float, velocity: int, program: int, bass_program: int = 32) -> None:
    """Format-0 MIDI file from (onset_q, dur_q, pitch, channel) tuples."""
    events = []  # (tick, order, bytes)
    for o, d, p, c in notes:
        on = int(round(o * TICKS))
        off = max(on + 1, int(round((o + d) * TICKS)) - 4)
        vel = int(np.clip(velocity * (0.8 if c == 1 else 1.0), 1, 127))
        events.append((on, 1, bytes([0x90 | c, p, vel])))
        events.append((off, 0, bytes([0x80 | c, p, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    tempo_us = int(round(60_000_000 / bpm))
    data = bytearray()
    data += b"\x00\xff\x51\x03" + tempo_us.to_bytes(3, "big")
    data += b"\x00" + bytes([0xC0, program]) + b"\x00" + bytes([0xC1, bass_program])
    last = 0
    for tick, _, msg in events:
        data += _varlen(tick - last) + msg
        last = tick
    data += _varlen(TICKS) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
    path.write_bytes(header + b"MTrk" + struct.pack(">I", len(data)) + bytes(data))


def find_soundfont() -> Path | None:
    cands = [
        os.environ.get("M2P_SOUNDFONT", ""),
        "/usr/share/sounds/sf2/TimGM6mb.sf2",
        "/usr/share/sounds/sf2/FluidR3_GM.sf2",
        "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
        "/usr/share/sounds/sf3/MuseScore_General.sf3",
        "/usr/share/sounds/sf3/default-GM.sf3",
    ]
    for c in cands:
        if c and Path(c).is_file():
            return Path(c)
    return None


def render(midi_path: Path, out_path: Path, soundfont: Path) -> float:
    """Render a MIDI file to 22,050 Hz mono FLAC with fluidsynth; returns the duration."""
    import soundfile as sf

    exe = shutil.which("fluidsynth")
    if exe is None:
        raise RuntimeError("fluidsynth not found (apt-get install --no-install-recommends fluidsynth)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        subprocess.run(
            [exe, "-ni", "-q", "-g", "0.6", "-r", str(SAMPLE_RATE), "-F", str(wav), str(soundfont), str(midi_path)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=600,
        )
        y, sr = sf.read(str(wav), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    # trim trailing silence (reverb tail beyond 1 s)
    nz = np.nonzero(np.abs(y) > 1e-4)[0]
    if len(nz):
        y = y[: min(len(y), nz[-1] + SAMPLE_RATE)]
    y = np.clip(y, -1.0, 1.0)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out_path.with_suffix(".tmp.flac")
    sf.write(str(tmp_out), y, sr, format="FLAC", subtype="PCM_16")
    tmp_out.replace(out_path)
    return len(y) / sr


def build_renders(cache: Path, n_per_source: int, full: bool, log=print) -> list[dict]:
    """Render every variant of every selected tune (resumable); returns track records."""
    sf2 = find_soundfont()
    if sf2 is None:
        raise RuntimeError("no GM soundfont found (apt-get install musescore-general-soundfont-small)")
    tunes = cached_tunes(cache / "renders" / "tunes.json", n_per_source, log=log)
    variants = VARIANTS_BASIC + (VARIANTS_FULL_EXTRA if full else ())
    return render_tune_variants(cache, tunes, variants, sf2, log)


def cached_tunes(index_path: Path, n_per_source: int, *, seed: int = 0, log=print) -> list[Tune]:
    """:func:`load_tunes`, remembered in ``index_path`` (JSON) so that re-runs skip music21's
    parsing; the index is redone when ``n_per_source`` or ``seed`` changes."""
    meta = json.loads(index_path.read_text()) if index_path.exists() else None
    if meta is None or meta.get("n_per_source") != n_per_source or meta.get("seed", 0) != seed:
        tunes = load_tunes(n_per_source, seed=seed, log=log)
        meta = {"n_per_source": n_per_source, "seed": seed,
                "tunes": [dataclasses.asdict(t) for t in tunes]}
        index_path.parent.mkdir(parents=True, exist_ok=True)
        index_path.write_text(json.dumps(meta))
    return [Tune(**t) for t in meta["tunes"]]


def render_tune_variants(cache: Path, tunes: list[Tune], variants, sf2: Path, log=print) -> list[dict]:
    """Render ``variants`` (rows of :data:`VARIANTS_BASIC`) of each tune into
    ``cache/renders/<source>/`` (existing files are kept); returns track records."""
    records = []
    for i, tune in enumerate(tunes):
        for suffix, tf, mode, loud, tr in variants:
            track_id = f"midi/{tune.tune_id}/{suffix}"
            rel = Path("renders") / tune.source / f"{tune.tune_id}__{suffix}.flac"
            out = cache / rel
            mode_label = "original" if mode == "original" else ("minor" if tune.mode == "major" else "major")
            if not out.exists():
                notes = variant_notes(tune, mode, tr)
                with tempfile.TemporaryDirectory() as tmp:
                    mid = Path(tmp) / "t.mid"
                    write_midi(mid, notes, tune.bpm * tf, int(round(80 * loud)), tune.program)
                    try:
                        render(mid, out, sf2)
                    except Exception as exc:
                        log(f"  render failed {track_id}: {exc}")
                        continue
            import soundfile as sf

            records.append(
                {
                    "track_id": track_id,
                    "path": str(rel),
                    "kind": "midi",
                    "package": f"music21-corpus/{tune.source}",
                    "licence": tune.licence,
                    "title": tune.title,
                    "duration": round(sf.info(str(out)).duration, 3),
                    "tune_id": tune.tune_id,
                    "tempo_factor": tf,
                    "mode": mode_label,
                    "tune_mode": tune.mode,
                    "loudness": loud,
                    "transpose": tr,
                    "variant": suffix,
                    "program": tune.program,
                    "soundfont": sf2.name,
                }
            )
        if (i + 1) % 10 == 0:
            log(f"  rendered {i + 1}/{len(tunes)} tunes")
    return records


def render_midi_files(cache: Path, files: list[tuple[Path, str, str]], log=print) -> list[dict]:
    """Render package MIDI files (e.g. openttd-openmsx) unchanged: (path, package, licence)."""
    import soundfile as sf

    sf2 = find_soundfont()
    records = []
    for path, package, licence in files:
        rel = Path("renders") / package / (path.stem + ".flac")
        out = cache / rel
        if not out.exists():
            try:
                render(path, out, sf2)
            except Exception as exc:
                log(f"  render failed {path.name}: {exc}")
                continue
        tune_id = f"{package}-{path.stem}"
        records.append(
            {
                "track_id": f"midi/{tune_id}/original",
                "path": str(rel),
                "kind": "midi",
                "package": package,
                "licence": licence,
                "title": path.stem,
                "duration": round(sf.info(str(out)).duration, 3),
                "tune_id": tune_id,
                "tempo_factor": 1.0,
                "mode": "original",
                "tune_mode": None,
                "loudness": 1.0,
                "transpose": 0,
                "variant": "original",
                "program": None,
                "soundfont": sf2.name if sf2 else None,
            }
        )
    return records
