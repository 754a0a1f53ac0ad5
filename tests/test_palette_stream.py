"""Live palettes (m2p.PaletteStream, m2p.live, `m2p live`): the same palettes as the offline track, from blocks,
pipes, slow producers, streams that stop mid-window, silence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

import m2p
from m2p.audio.decode import SAMPLE_RATE
from m2p.errors import InvalidArgumentError, InvalidAudioError
from m2p.inference.live import PaletteStream, read_pcm
from training.metrics import palette_distance

FAST = {"window": 2.0, "hop": 1.0, "device": "cpu"}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def music(seconds: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    y = 0.3 * np.sin(2 * np.pi * (220 + 60 * t) * t) * (1 + 0.5 * np.sin(3 * t))
    y += 0.2 * np.sin(2 * np.pi * 660 * t) * (t > seconds / 2)  # the music changes halfway
    return y.astype(np.float32)


def assert_same_as_offline(windows, track, tolerance=0.5):
    assert [round(w.time, 4) for w in windows] == [round(float(t), 4) for t in track.times]
    for w, p in zip(windows, track.palettes):
        assert len(w.palette) == len(p)
        assert palette_distance(w.palette.lch, p.lch) < tolerance


@pytest.mark.parametrize("block", [441, 2205, 30000])
def test_stream_gives_the_offline_track(tiny_model, block):
    y = music(6.3)
    track = m2p.palette_track(y, sample_rate=SAMPLE_RATE, model=tiny_model, **FAST)
    stream = PaletteStream(sample_rate=SAMPLE_RATE, model=tiny_model, **FAST)
    windows = []
    for i in range(0, len(y), block):
        windows += stream.feed(y[i:i + block])
    windows += stream.close()  # the tail window (6.3 s is not a whole number of hops)
    assert_same_as_offline(windows, track)
    assert stream.seconds == pytest.approx(6.3, abs=1e-3)


def test_stream_palettes_arrive_as_soon_as_their_window_is_complete(tiny_model):
    stream = PaletteStream(sample_rate=SAMPLE_RATE, model=tiny_model, **FAST)
    y = music(4.0)
    assert stream.feed(y[: int(1.99 * SAMPLE_RATE)]) == []
    first = stream.feed(y[int(1.99 * SAMPLE_RATE): 2 * SAMPLE_RATE])
    assert [w.start for w in first] == [0.0] and first[0].end == pytest.approx(2.0)


def test_other_rates_and_stereo_are_converted_like_the_offline_path(tiny_model):
    rate = 44100
    y = np.column_stack([music(5.0, rate), 0.5 * music(5.0, rate)])
    track = m2p.palette_track(y, sample_rate=rate, model=tiny_model, **FAST)
    windows = list(m2p.live((y[i:i + 4410] for i in range(0, len(y), 4410)),
                            sample_rate=rate, model=tiny_model, **FAST))
    assert_same_as_offline(windows, track)


def test_silence_and_a_stream_that_stops_mid_window(tiny_model):
    stream = PaletteStream(sample_rate=SAMPLE_RATE, model=tiny_model, **FAST)
    windows = stream.feed(np.zeros(int(2.5 * SAMPLE_RATE), np.float32))  # 2.5 s of silence
    windows += stream.close()
    assert [w.start for w in windows] == [0.0, 0.5]  # the tail window ends with the audio
    for w in windows:
        assert np.isfinite(w.palette.lch).all() and 3 <= len(w.palette) <= 8
    assert stream.close() == []  # closing twice adds nothing
    with pytest.raises(InvalidArgumentError, match="closed"):
        stream.feed(np.zeros(10, np.float32))
    short = PaletteStream(sample_rate=SAMPLE_RATE, model=tiny_model, **FAST)
    short.feed(np.zeros(SAMPLE_RATE // 2, np.float32))
    assert short.close() == []  # under a second: nothing to say


def test_bad_blocks_are_refused_by_name(tiny_model):
    stream = PaletteStream(sample_rate=SAMPLE_RATE, model=tiny_model, label="mic", **FAST)
    stream.feed(np.zeros((100, 2), np.float32))
    with pytest.raises(InvalidAudioError, match="mic.*3 channels, the stream 2"):
        stream.feed(np.zeros((100, 3), np.float32))
    with pytest.raises(InvalidAudioError, match="dtype"):
        stream.feed(np.array(["a", "b"]))
    with pytest.raises(InvalidAudioError, match="sample_rate"):
        PaletteStream(sample_rate=0, model=tiny_model)


def test_read_pcm_yields_whole_frames_from_a_pipe():
    read_fd, write_fd = os.pipe()
    samples = np.arange(10, dtype="<f4").reshape(5, 2)
    raw = samples.tobytes()
    os.write(write_fd, raw[:7])  # less than one frame, then the rest
    os.write(write_fd, raw[7:] + b"\x00\x00")  # and a partial frame at the end
    os.close(write_fd)
    got = np.concatenate(list(read_pcm(read_fd, channels=2)))
    os.close(read_fd)
    np.testing.assert_array_equal(got, samples)


def _offline(song, model_dir):
    return m2p.palette_track(str(song), model=str(model_dir), **FAST)


def _live_command(model_dir, *extra):
    return [sys.executable, "-m", "m2p", "live", *extra, "--model", str(model_dir),
            "--window", "2", "--hop", "1", "--device", "cpu"]


def _lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def _assert_lines_match(lines, track):
    assert [d["time"] for d in lines] == [round(float(t), 3) for t in track.times]
    for d, p in zip(lines, track.palettes):
        assert palette_distance(m2p.Palette.from_hex(d["hex"]).lch, p.lch) < 0.5
        assert set(d) == {"time", "start", "end", "hex", "valence", "arousal"}


def test_cli_live_from_a_real_ffmpeg_pipe(tmp_path, tiny_model_dir):
    import imageio_ffmpeg

    song = tmp_path / "song.wav"
    sf.write(str(song), music(5.5, 44100), 44100)
    # -nostdin: ffmpeg otherwise reads its standard input for key commands, and under a
    # runner whose stdin stays open it waits there instead of finishing.
    ffmpeg = subprocess.Popen([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error",
                               "-i", str(song), "-f", "f32le", "-ac", "1", "-ar", "22050", "-"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    try:
        result = subprocess.run(_live_command(tiny_model_dir), stdin=ffmpeg.stdout,
                                capture_output=True, text=True, timeout=300)
    finally:
        ffmpeg.stdout.close()  # so ffmpeg gets EPIPE, not a full pipe, if the reader died
        ffmpeg.kill()
        ffmpeg.wait()
    assert result.returncode == 0, result.stderr
    _assert_lines_match(_lines(result.stdout), _offline(song, tiny_model_dir))


def test_cli_live_with_a_producer_slower_than_real_time(tmp_path, tiny_model_dir):
    song = tmp_path / "song.wav"
    y = music(3.5)
    sf.write(str(song), y, SAMPLE_RATE)
    proc = subprocess.Popen(_live_command(tiny_model_dir, "--format", "s16le"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=False)
    pcm = (np.clip(y, -1, 1) * 32767).astype("<i2").tobytes()

    def produce():  # 0.25 s of audio every 0.4 s: slower than real time, with odd byte splits
        step = int(0.25 * SAMPLE_RATE) * 2 + 1
        for i in range(0, len(pcm), step):
            proc.stdin.write(pcm[i:i + step])
            proc.stdin.flush()
            time.sleep(0.4)
        proc.stdin.close()

    producer = threading.Thread(target=produce)
    producer.start()
    out = proc.stdout.read()  # not communicate(): it would close stdin under the producer
    err = proc.stderr.read()
    proc.wait(timeout=300)
    producer.join()
    assert proc.returncode == 0, err.decode()
    lines = _lines(out.decode())
    # 16-bit quantisation changes the input slightly: the palettes stay within the tolerance
    _assert_lines_match(lines, _offline(song, tiny_model_dir))


def test_cli_live_plays_a_file_and_refuses_a_stream_under_a_second(tmp_path, tiny_model_dir):
    song = tmp_path / "song.wav"
    sf.write(str(song), music(2.5), SAMPLE_RATE)
    start = time.monotonic()
    result = subprocess.run(_live_command(tiny_model_dir, str(song), "--realtime"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start >= 2.4  # played at real speed
    _assert_lines_match(_lines(result.stdout), _offline(song, tiny_model_dir))
    tiny = subprocess.run(_live_command(tiny_model_dir), input=b"\x00" * 4000,
                          capture_output=True, timeout=300)
    assert tiny.returncode == 1
    assert tiny.stderr.decode().strip().splitlines()[-1].startswith("m2p: error: <stdin>: the stream ended after 0.05 s")
