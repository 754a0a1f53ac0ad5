"""Held-out real-music evaluation: recordings from whole Debian game-music packages the model
never trained on (model v2, issue 9).

Usage::

    python -m training.heldout --model DIR [--out-json F] [--out-md F] [--picture PNG]
        [--pkgs ROOT] [--packages P ...] [--quick] [--quiet]

The package: which files and mood groups (``files``), the metrics (``metrics``), the teachers'
scores, cached per file (``teachers``), the run (``evaluate``), the Markdown, summary and
contact sheet (``report``) and the command (``__main__``).

The audio comes from ``<pkgs>/<package>/`` (default ``training/cache/pkgs``, as unpacked by
``training.corpus.build``); for a package missing there, :data:`FALLBACK_ROOTS` are tried (for
Wesnoth: ``cd /tmp && apt-get download wesnoth-1.16-music && dpkg -x wesnoth-1.16-music_*.deb
/tmp/wesnoth``). Files: every ``.ogg`` of at least 3 s in the package's music folder, except
``silence.ogg``.

The mood groups (:data:`GROUPS`) were written from the file names (which name the scene: battle,
defeat, victory, sad...) before any model v2 result existed, and must not be edited after
seeing results.

Metrics (definitions also in the Markdown output, :func:`results_markdown`):

1. Mood ordering: AUC (Mann-Whitney, ties 0.5) of the whole-piece arousal for the arousal-high
   vs arousal-low files and of valence for valence-positive vs valence-negative, for the music
   emotion head (``Palette.valence_arousal``), for the palette's colour emotion
   (``m2p.colour.emotion.palette_valence_arousal``) and for Valdez & Mehrabian's (1994) published
   formulas applied to the palette (:func:`valdez_mehrabian`); per-group hue shares
   (:func:`hue_shares`).
2. Teacher agreement: Spearman between the model's whole-piece valence/arousal and vibenet's
   (mean over 10 s windows) and the zero-shot musicnn tag reading
   (``training.corpus.teachers.tag_valence_arousal``; skipped with ``--quick``).
3. Variety: hue-bin coverage (:func:`hue_bin_coverage`), mean matched distance between songs'
   palettes against emotion-matched corpus palettes of the same songs, palette lengths.
4. Alternatives: ``m2p.palettes(n=5)`` at the default noise: Multimodality and Emotion
   Similarity against the noise-free palette; determinism of a fixed seed.
5. Steadiness: a 10 s excerpt looped to 2 minutes through ``m2p.palette_track``.
6. Picture: a contact sheet of 16 songs' palettes (``--picture``).

Per-file teacher results are cached in ``training/cache/heldout/`` (vibenet and musicnn are
slow and do not depend on the evaluated model).
"""

from training.heldout.evaluate import ALTERNATIVES, evaluate_heldout, looped_excerpt
from training.heldout.files import (
    GROUPS,
    HELDOUT_PACKAGES,
    MIN_SECONDS,
    HeldoutFile,
    find_heldout_files,
    package_music_dir,
    picture_selection,
    resolve_groups,
)
from training.heldout.metrics import (
    auc,
    emotion_similarity_va,
    hue_bin_coverage,
    hue_histogram,
    hue_shares,
    length_histogram,
    mean_pairwise_distance,
    mood_ordering,
    spearman,
    steadiness,
    teacher_agreement,
    valdez_mehrabian,
)
from training.heldout.report import contact_sheet, json_default, results_markdown, summary_lines

__all__ = [
    "ALTERNATIVES", "GROUPS", "HELDOUT_PACKAGES", "MIN_SECONDS", "HeldoutFile", "auc",
    "contact_sheet", "emotion_similarity_va", "evaluate_heldout", "find_heldout_files",
    "hue_bin_coverage", "hue_histogram", "hue_shares", "json_default", "length_histogram",
    "looped_excerpt", "mean_pairwise_distance", "mood_ordering", "package_music_dir",
    "picture_selection", "resolve_groups", "results_markdown", "spearman", "steadiness",
    "summary_lines", "teacher_agreement", "valdez_mehrabian",
]
