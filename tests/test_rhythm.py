"""Rhythm and structure (issue 26): onsets at the sound's start, tempo, beats, downbeats,
sections and drops on audio with known answers; the rhythm in the palette track (one pass,
JSON, picture) and palettes held on the music's clock; the causal tracker of live streams."""

from __future__ import annotations

import json

import numpy as np
import pytest

from m2p.errors import InvalidArgumentError, TrackError
from m2p.palette_types import Palette, PaletteTrack
from m2p.rhythm.analysis import analyze_audio
from m2p.rhythm.evaluation import f_measure, match_events, tempo_correct
from m2p.rhythm.rhythm_types import Rhythm

SR = 16000


# ----------------------------------------------------------------------------------------------
# Synthetic music with known beats
# ----------------------------------------------------------------------------------------------


def _kick(rng):
    t = np.arange(int(0.18 * SR)) / SR
    return 0.9 * np.sin(2 * np.pi * (50 + 60 * np.exp(-t * 30)) * t) * np.exp(-t * 18)


def _snare(rng):
    n = int(0.12 * SR)
    return 0.35 * rng.standard_normal(n) * np.exp(-np.arange(n) / SR * 30)


def _hat(rng):
    n = int(0.03 * SR)
    return 0.12 * np.diff(rng.standard_normal(n + 1)) * np.exp(-np.arange(n) / SR * 120)


def _add(x, t, sound):
    i = int(round(t * SR))
    end = min(len(x), i + len(sound))
    if 0 <= i < end:
        x[i:end] += sound[: end - i]


def drums(bpm, seconds, *, meter=4, start=0.2, seed=0):
    """A drum pattern: kick on the first beat of each bar, snare on the others, hats on every
    half beat. Returns (samples, beat times, downbeat times)."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * SR))
    beat = 60.0 / bpm
    beats = np.arange(start, seconds - 0.2, beat)
    for k, t in enumerate(beats):
        _add(x, t, _kick(rng) if k % meter == 0 else _snare(rng))
        _add(x, t, _hat(rng))
        _add(x, t + beat / 2, _hat(rng))
    return x.astype(np.float32), beats, beats[::meter]


def tones(seconds, freqs, harmonics, bpm, *, seed=0):
    """Plucked chords on every beat: ``freqs`` (Hz) with harmonic weights ``harmonics``."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * SR))
    beat = 60.0 / bpm
    n = int(beat * SR)
    t = np.arange(n) / SR
    note = sum(w * np.sin(2 * np.pi * f * (h + 1) * t + rng.uniform(0, 6))
               for f in freqs for h, w in enumerate(harmonics)) * np.exp(-t * 4)
    for s in np.arange(0.0, seconds - beat, beat):
        _add(x, s, 0.15 * note / len(freqs))
    return x.astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Onsets, tempo, beats, downbeats, sections, drops
# ----------------------------------------------------------------------------------------------


def test_mel_stream_gives_musicnns_frames_block_by_block():
    """The rhythm's own frame stream is musicnn's front end (torch's centred STFT, Slaney mel,
    float16 power, log10(10000 p + 1)) and tonality's chroma, whatever the block sizes; fed
    22,050 Hz blocks it gives the frames of the same audio resampled at once."""
    import torch

    from m2p.audio.resample import resample_poly
    from m2p.features.frames import mel_filters
    from m2p.features.tonality import chroma_frames
    from m2p.rhythm.mel_stream import MelStream

    x = (0.3 * np.random.default_rng(0).standard_normal(SR * 3 + 123)).astype(np.float32)
    stream = MelStream()
    for i in range(0, len(x), 997):
        stream.push(x[i:i + 997])
    stream.finish()
    spec = torch.stft(torch.from_numpy(x)[None], 512, hop_length=256,
                      window=torch.hann_window(512), center=True, pad_mode="constant",
                      return_complex=True)
    fb = torch.from_numpy(mel_filters(sr=SR, n_fft=512, n_mels=96).astype(np.float32))
    power = torch.matmul(fb, spec.real ** 2 + spec.imag ** 2).transpose(1, 2)
    reference = torch.log10(10000.0 * power.clamp(max=65504).half().float() + 1.0)[0].numpy()
    assert stream.n_mel_frames == len(reference)
    np.testing.assert_allclose(stream.mel_frames(0, stream.n_mel_frames), reference, atol=2e-3)
    chroma = chroma_frames(x)
    assert stream.n_chroma_frames == len(chroma)
    np.testing.assert_allclose(stream.chroma_frames(0, len(chroma)), chroma, rtol=1e-4, atol=1e-4)

    y = resample_poly(x, 441, 320).astype(np.float32)  # 22,050 Hz
    whole, blocks = MelStream(22050), MelStream(22050)
    whole.push(y)
    whole.finish()
    for i in range(0, len(y), 5000):
        blocks.push(y[i:i + 5000])
    blocks.finish()
    np.testing.assert_array_equal(blocks.mel_frames(0, blocks.n_mel_frames),
                                  whole.mel_frames(0, whole.n_mel_frames))


def test_onsets_are_reported_at_the_sound_start():
    """Clicks at random times: the envelope's peaks, at frame_times, land on the clicks'
    starts (mean error within 3 ms, every one within the 16 ms frame grid)."""
    from m2p.rhythm.mel_stream import MelStream
    from m2p.rhythm.envelope import band_flux, beat_envelope, frame_times

    rng = np.random.default_rng(1)
    starts = np.cumsum(rng.uniform(0.35, 0.6, 30)) + 0.5
    x = np.zeros(int((starts[-1] + 1) * SR), np.float32)
    click = (np.hanning(32) * np.sin(2 * np.pi * 1000 * np.arange(32) / SR)).astype(np.float32)
    for t in starts:
        _add(x, t, 0.5 * click)
    frames = MelStream()
    frames.push(x)
    frames.finish()
    env = beat_envelope(band_flux(frames.mel_frames(0, frames.n_mel_frames)))
    times = frame_times(len(env))
    peaks = [times[int(np.argmax(np.where(np.abs(times - t) < 0.05, env, -1)))] for t in starts]
    errors = np.asarray(peaks) - starts
    assert abs(errors.mean()) < 0.003
    assert np.all(np.abs(errors) <= 0.0165)


@pytest.mark.parametrize("bpm", [90.0, 100.0, 128.0, 150.0])
def test_tempo_and_beats_of_a_drum_pattern(bpm):
    x, beats, _ = drums(bpm, 30.0)
    rhythm = analyze_audio(x, sample_rate=SR)
    assert tempo_correct(rhythm.bpm, bpm, tolerance=0.02)
    assert f_measure(beats, rhythm.beats) >= 0.95
    assert np.all(np.isin(rhythm.downbeats, rhythm.beats))


def test_tempo_scales_with_a_faster_copy():
    """The same pattern 10 % faster: the tempo moves by 10 % (no octave jump)."""
    slow = analyze_audio(drums(110.0, 30.0)[0], sample_rate=SR).bpm
    fast = analyze_audio(drums(121.0, 30.0)[0], sample_rate=SR).bpm
    assert abs(fast / slow - 1.1) < 0.02


def test_tempo_follows_a_piece_that_speeds_up():
    """100 BPM, then at once 115 BPM: the tempo curve follows within 4 %, the beats too."""
    a, beats_a, _ = drums(100.0, 24.0)
    b, beats_b, _ = drums(115.0, 24.0, seed=2)
    x = np.concatenate([a, b])
    rhythm = analyze_audio(x, sample_rate=SR)
    assert tempo_correct(float(rhythm.tempo_at(10.0)), 100.0)
    assert tempo_correct(float(rhythm.tempo_at(38.0)), 115.0)
    assert f_measure(np.concatenate([beats_a, beats_b + 24.0]), rhythm.beats) >= 0.9


@pytest.mark.parametrize("meter", [3, 4])
def test_downbeats_follow_the_kick(meter):
    x, _, downbeats = drums(120.0, 30.0, meter=meter)
    rhythm = analyze_audio(x, sample_rate=SR)
    assert rhythm.meter == meter
    assert f_measure(downbeats, rhythm.downbeats) >= 0.9


def test_sections_of_contrasting_parts():
    """Three 20 s parts (different timbre, harmony, drums): two boundaries, each within 2 s,
    nothing else."""
    bpm = 120.0
    a = tones(20.0, [261.6, 329.6, 392.0], [1.0, 0.5, 0.25], bpm) + drums(bpm, 20.0)[0] * 0.5
    b = tones(20.0, [92.5, 110.0, 138.6], [1.0, 0.9, 0.8, 0.7, 0.6], bpm, seed=1)
    c = tones(20.0, [1318.5, 1568.0], [1.0], bpm, seed=2) + drums(bpm, 20.0, seed=3)[0]
    rhythm = analyze_audio(np.concatenate([a, b, c]), sample_rate=SR)
    assert len(rhythm.sections) == 2
    assert match_events([20.0, 40.0], rhythm.sections, 2.0) == 2


def test_drops_are_found_only_when_asked_and_only_where_they_are():
    """Eight bars of a rising hi-hat build with no kick, then the kick and bass drop in."""
    rng = np.random.default_rng(0)
    bpm, beat = 128.0, 60.0 / 128.0
    bar = 4 * beat
    x = np.zeros(int(40 * SR))
    for k, t in enumerate(np.arange(0.2, 8 * bar, beat / 4)):  # the build: denser and louder
        _add(x, t, _hat(rng) * (0.3 + 3.0 * t / (8 * bar)))
    drop = 0.2 + 8 * bar
    for k, t in enumerate(np.arange(drop, 39.5, beat)):
        _add(x, t, _kick(rng) * 1.5)
        _add(x, t + beat / 2, _hat(rng))
    x = x.astype(np.float32)
    plain = analyze_audio(x, sample_rate=SR)
    assert plain.drops.size == 0 and plain.builds.size == 0
    marked = analyze_audio(x, sample_rate=SR, drops=True)
    assert len(marked.drops) == 1 and abs(marked.drops[0] - drop) <= beat * 1.1
    assert marked.builds[0, 1] == marked.drops[0] and marked.builds[0, 0] < drop - 3 * bar
    steady = analyze_audio(drums(128.0, 40.0)[0], sample_rate=SR, drops=True)
    assert steady.drops.size == 0


def test_silence_has_no_beats():
    rhythm = analyze_audio(np.zeros(SR * 5, np.float32), sample_rate=SR)
    assert rhythm.beats.size == 0 and rhythm.meter == 0 and rhythm.bpm == 0.0


# ----------------------------------------------------------------------------------------------
# The Rhythm value
# ----------------------------------------------------------------------------------------------


def make_rhythm(duration=12.0):
    beats = np.arange(0.5, duration, 0.5)
    return Rhythm(beats=beats, downbeats=beats[::4], tempo_times=beats,
                  tempo_bpm=np.full(len(beats), 120.0), sections=[4.5, 8.5], duration=duration,
                  meter=4)


def test_rhythm_json_round_trip_is_exact():
    rhythm = make_rhythm()
    again = Rhythm.from_dict(json.loads(json.dumps(rhythm.to_dict())))
    assert again == rhythm and hash(again) == hash(rhythm)
    assert again.bpm == 120.0 and again.events("section").tolist() == [4.5, 8.5]


@pytest.mark.parametrize("change", [
    {"beats": [1.0, 0.5]}, {"beats": [0.5, float("nan")]}, {"downbeats": [0.75]},
    {"sections": [0.0]}, {"sections": [13.0]}, {"tempo_bpm": [-1.0]}, {"meter": 5},
    {"duration": -1.0}, {"duration": float("inf")}, {"beats": "0.5"}, {"builds": [[3.0, 2.0]]},
])
def test_rhythm_refuses_bad_values(change):
    data = dict(beats=[0.5, 1.0], downbeats=[0.5], tempo_times=[0.5], tempo_bpm=[120.0],
                sections=[6.0], duration=12.0, meter=4)
    data.update(change)
    with pytest.raises(InvalidArgumentError):
        Rhythm(**data)


# ----------------------------------------------------------------------------------------------
# The palette track on the music's clock
# ----------------------------------------------------------------------------------------------


def make_track(rhythm=None, duration=12.0):
    times = np.linspace(0.0, duration, 11)
    palettes = tuple(Palette([[40 + 4 * i, 30.0, 20.0 * i], [70.0, 10 + 3 * i, 200.0],
                              [20.0, 5.0, 90.0 + 5 * i]]) for i in range(len(times)))
    return PaletteTrack(times=times, palettes=palettes, window=2.0, hop=1.0, duration=duration,
                        rhythm=rhythm)


@pytest.mark.parametrize("sync", ["beat", "downbeat", "section"])
def test_synced_track_changes_only_on_its_events(sync):
    track = make_track(make_rhythm())
    events = track.rhythm.events(sync)
    query = np.arange(0.0, 12.0, 0.01)
    lch = track.sample(query, sync=sync).lch
    changed = query[1:][np.any(np.abs(np.diff(lch, axis=0)) > 1e-9, axis=(1, 2))]
    assert len(changed) == len(events)  # one change per event, nothing in between
    assert np.all(np.abs(changed[:, None] - events[None, :]).min(axis=1) <= 0.01 + 1e-9)
    # Between two events: the smooth palette of the span's middle.
    mid = (events[0] + events[1]) / 2
    assert track.at(events[0] + 0.001, sync=sync) == track.at(mid)


def test_glide_takes_one_beat_from_the_event():
    track = make_track(make_rhythm())
    event = 4.5  # a section boundary; one beat is 0.5 s
    before, after = track.at(event - 0.01, sync="section"), track.at(event + 0.6, sync="section")
    assert track.at(event, sync="section", glide=True) == before
    assert np.allclose(track.at(event + 0.5, sync="section", glide=True).lch, after.lch)
    halfway = track.at(event + 0.25, sync="section", glide=True)
    assert halfway != before and halfway != after


def test_default_stays_the_smooth_glide():
    track = make_track(make_rhythm())
    query = np.linspace(0, 12, 97)
    plain = make_track().sample(query)
    assert all(np.array_equal(a, b) for a, b in zip(track.sample(query), plain))
    assert all(np.array_equal(a, b) for a, b in zip(track.sample(query, sync=None), plain))


def test_sync_needs_a_rhythm_and_a_known_event():
    with pytest.raises(TrackError, match="rhythm"):
        make_track().at(3.0, sync="beat")
    with pytest.raises(InvalidArgumentError, match="sync"):
        make_track(make_rhythm()).at(3.0, sync="bar")


def test_track_json_with_and_without_rhythm():
    track = make_track(make_rhythm())
    data = json.loads(track.to_json())
    assert data["version"] == 2 and data["rhythm"]["meter"] == 4
    assert PaletteTrack.from_json(track.to_json()) == track
    old = make_track().to_dict()  # a version 1 document, as written before issue 26
    assert old["version"] == 1 and "rhythm" not in old
    assert PaletteTrack.from_dict(old).rhythm is None
    data["rhythm"]["beats"] = [1.0, 0.5]
    with pytest.raises(TrackError, match="beats"):
        PaletteTrack.from_dict(data)


def test_track_refuses_a_rhythm_of_another_length():
    with pytest.raises(InvalidArgumentError, match="rhythm"):
        make_track(make_rhythm(duration=30.0))


def test_picture_shows_the_rhythm(tmp_path):
    from PIL import Image

    from m2p.rhythm.timeline import LANE_HEIGHT

    make_track().save_png(tmp_path / "plain.png")
    make_track(make_rhythm()).save_png(tmp_path / "rhythm.png")
    plain = np.asarray(Image.open(tmp_path / "plain.png"))
    drawn = np.asarray(Image.open(tmp_path / "rhythm.png"))
    assert drawn.shape[0] == plain.shape[0] + LANE_HEIGHT
    lane = drawn[plain.shape[0]:]
    assert len(np.unique(lane.reshape(-1, 3), axis=0)) > 3  # bands, ticks and a caption


# ----------------------------------------------------------------------------------------------
# In the engine: one pass, offline and live
# ----------------------------------------------------------------------------------------------


def test_palette_track_carries_the_rhythm_of_the_same_frames(tiny_model, one_torch_thread):
    import m2p

    x, beats, _ = drums(100.0, 24.0)
    track = m2p.palette_track(x, sample_rate=SR, model=tiny_model)
    alone = analyze_audio(x, sample_rate=SR)
    assert track.rhythm == alone  # the engine's frame stream gives exactly the analysis's
    assert f_measure(beats, track.beats) >= 0.95
    assert PaletteTrack.from_json(track.to_json()) == track


def test_rhythm_does_not_change_the_palettes(tiny_model, one_torch_thread):
    from m2p.inference.engine import PaletteEngine

    x = drums(100.0, 14.0)[0]
    out = {}
    for mode in (None, "offline"):
        engine = PaletteEngine(tiny_model, device=tiny_model.device if hasattr(tiny_model, "device")
                               else __import__("torch").device("cpu"), seeds=[0], noise_scale=0.0,
                               window_samples=10 * SR, hop_samples=160 * 256, rhythm=mode)
        windows = engine.feed(x) + engine.finish()
        out[mode] = [w.palette for w in windows]
    assert out[None] == out["offline"]


def test_online_tracker_locks_on_a_drum_pattern():
    from m2p.rhythm.mel_stream import MelStream
    from m2p.rhythm.online import LATENCY, OnlineBeatTracker

    x, beats, _ = drums(116.0, 30.0)
    frames, tracker, events = MelStream(), OnlineBeatTracker(), []
    for i in range(0, len(x), 1024):  # 64 ms blocks, as a sound card would deliver them
        frames.push(x[i:i + 1024])
        events += tracker.update(frames)
        frames.forget_before(frames.n_samples)
    times = np.asarray([e.time for e in events])
    later = times[times >= 5.0]
    assert match_events(beats, later, 0.07) >= 0.9 * len(later)
    assert f_measure(beats, times) >= 0.9
    waits = np.asarray([e.announced - e.time for e in events])
    assert np.all(waits >= LATENCY - 1e-9) and np.all(waits <= LATENCY + 1024 / SR + 1e-9)
    assert tempo_correct(events[-1].bpm, 116.0)


def test_live_stream_announces_beats(tiny_model, one_torch_thread):
    import m2p

    x, beats, _ = drums(120.0, 16.0)
    stream = m2p.PaletteStream(sample_rate=SR, model=tiny_model, beats=True)
    announced = []
    for i in range(0, len(x), 4000):
        stream.feed(x[i:i + 4000])
        announced += stream.take_beats()
    stream.close()
    times = np.asarray([b.time for b in announced])
    assert len(times) >= 20 and f_measure(beats, times) >= 0.9
    assert any(b.downbeat for b in announced)
    assert stream.next_beat is not None and stream.next_beat > times[-1]
    quiet = m2p.PaletteStream(sample_rate=SR, model=tiny_model)
    quiet.feed(x[:SR * 4])
    assert quiet.take_beats() == []


def _sectioned_track():
    """50 s: red (0-20 s, two near-identical halves), blue (20-40 s), green (40-50 s); the
    music's sections every 10 s."""
    red = Palette.from_hex(["#7a0a0a", "#e03a2f", "#ff9a8a"])
    red2 = Palette.from_hex(["#7b0a0a", "#e13a2f", "#ff9b8a"])
    blue = Palette.from_hex(["#0a1a7a", "#2f5ae0", "#8ab4ff"])
    green = Palette.from_hex(["#0a5a1a", "#2fe05a", "#9aff8a"])
    times = np.arange(1.25, 50.0, 2.5)
    palettes = [red if t < 10 else red2 if t < 20 else blue if t < 40 else green for t in times]
    beats = np.arange(0.0, 50.0, 0.5)
    rhythm = Rhythm(beats=beats, downbeats=beats[::4], tempo_times=[0.0], tempo_bpm=[120.0],
                    sections=[10.0, 20.0, 30.0, 40.0], duration=50.0, meter=4)
    return PaletteTrack(times, palettes, window=2.5, hop=2.5, duration=50.0, rhythm=rhythm)


def test_export_sections_follow_the_music_and_merge_near_identical_ones():
    from m2p.exporters.sections import MERGE_CHANGE, palette_change, track_sections

    track = _sectioned_track()
    auto = track_sections(track)
    assert [(s.start, s.end) for s in auto] == [(0.0, 20.0), (20.0, 40.0), (40.0, 50.0)]
    assert all(s.change >= MERGE_CHANGE for s in auto[1:])
    assert palette_change(auto[0].palette.lch, track.palettes[0].lch) < 1.0  # the reds' palette
    # A number merges the most alike neighbours until that many remain.
    four = track_sections(track, 4)
    assert len(four) == 4 and {(0.0, 10.0), (10.0, 20.0)} & {(s.start, s.end) for s in four}
    assert [s.start for s in track_sections(track, 2)][0] == 0.0 and len(track_sections(track, 2)) == 2
    # Without a rhythm, or asked for more sections than the music has: the palette-change rule.
    plain = PaletteTrack(track.times, track.palettes, window=2.5, hop=2.5, duration=50.0)
    assert [s.start for s in track_sections(plain, 3)] == [0.0, 20.0, 40.0]
    assert track_sections(track, 9) == track_sections(plain, 9)


def test_a_shifted_rhythm_keeps_its_events_in_song_time():
    r = Rhythm(beats=[0.5, 1.0, 1.5, 2.0], downbeats=[0.5, 2.0], tempo_times=[0.5, 2.0],
               tempo_bpm=[120.0, 120.0], sections=[1.2], duration=3.0, meter=3)
    moved = r.shifted(40.0)
    assert moved.duration == 43.0 and moved.beats.tolist() == [40.5, 41.0, 41.5, 42.0]
    assert moved.sections.tolist() == [41.2] and moved.downbeats.tolist() == [40.5, 42.0]
    assert moved.bpm == r.bpm and moved.meter == 3 and r.shifted(0.0) == r
    with pytest.raises(InvalidArgumentError):
        r.shifted(-1.0)
