"""Fixed Matplotlib looks shipped as ``.mplstyle`` files, usable by dotted name.

``plt.style.use("m2p.styles.dark")`` (Matplotlib >= 3.7 resolves ``package.style`` names to
``<package>/<style>.mplstyle`` with :mod:`importlib.resources`). Combine a fixed look with a
song's colours: ``plt.style.use(["m2p.styles.dark", m2p.style("song.mp3", dark=True)])``.

Files: ``dark.mplstyle`` (neutral dark base, WCAG AAA text), ``light.mplstyle`` (clean light
base). Neither sets ``text.usetex``. This package imports nothing.
"""

STYLES = ("dark", "light")
"""Names of the shipped styles (``m2p.styles.<name>``)."""
