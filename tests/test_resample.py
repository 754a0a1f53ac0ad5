"""m2p.audio.resample against SciPy's resample_poly, the reference it replaces."""

import numpy as np
import pytest
from scipy.signal import resample_poly as scipy_resample_poly

from m2p.audio.resample import kaiser_lowpass, resample_poly

# 44.1 and 48 kHz to 22.05 kHz, 22.05 to 16 kHz (musicnn), upsampling, and a ratio with
# awkward phases.
RATIOS = [(1, 2), (147, 320), (320, 441), (2, 1), (160, 147), (7, 11), (147, 5120)]


@pytest.mark.parametrize("up, down", RATIOS)
@pytest.mark.parametrize("n", [1, 2, 7, 1001, 30_000])
def test_equals_scipy(up, down, n):
    x = np.random.default_rng(n + up).standard_normal(n)
    ours, theirs = resample_poly(x, up, down), scipy_resample_poly(x, up, down)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_leading_axes_and_empty_input():
    x = np.random.default_rng(0).standard_normal((3, 2, 5000))
    np.testing.assert_allclose(resample_poly(x, 320, 441),
                               scipy_resample_poly(x, 320, 441, axis=-1), rtol=0, atol=1e-12)
    assert resample_poly(np.zeros(0), 1, 2).shape == (0,)
    np.testing.assert_array_equal(resample_poly(x[0, 0], 3, 3), x[0, 0])  # same rate: a copy


def test_filter_is_scipys_firwin():
    from scipy.signal import firwin

    h, half_len = kaiser_lowpass(147, 320)
    assert half_len == 3200
    np.testing.assert_allclose(h, 147 * firwin(2 * half_len + 1, 1 / 320, window=("kaiser", 5.0)),
                               rtol=0, atol=1e-15)


def test_a_tone_keeps_its_level_and_an_alias_is_removed():
    rate = 44_100
    t = np.arange(rate) / rate
    tone = resample_poly(np.sin(2 * np.pi * 1000 * t), 1, 2)[2000:-2000]  # 1 kHz survives
    alias = resample_poly(np.sin(2 * np.pi * 15_000 * t), 1, 2)[2000:-2000]  # above 11 kHz
    assert np.sqrt(np.mean(tone**2)) == pytest.approx(np.sqrt(0.5), rel=5e-3)  # passband ripple
    assert np.sqrt(np.mean(alias**2)) < 1e-3  # -63 dB
