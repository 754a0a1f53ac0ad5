"""The teachers' scores of one held-out file (vibenet, and the musicnn taggers' zero-shot
reading), computed as the corpus build computes them and cached per file as JSON."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from m2p._internal.outputs import atomic_output
from training.heldout.files import DEFAULT_CORPUS_CACHE, HeldoutFile

__all__ = ["TEACHER_TAGGERS", "teacher_scores"]

TEACHER_TAGGERS = ("MTT_vgg", "MSD_vgg")


def _cache_file(cache_dir: Path, f: HeldoutFile) -> Path:
    return cache_dir / f"{f.package}__{f.stem}.json"


def _file_tag(f: HeldoutFile) -> str:
    st = f.path.stat()
    return hashlib.sha1(f"{f.key}:{st.st_size}".encode()).hexdigest()[:16]


def teacher_scores(f: HeldoutFile, cache_dir: Path, *, musicnn: bool,
                   vibenet_model: Callable[[], Any] | None,
                   taggers: Callable[[], Sequence[Any]], corpus_cache: Path | None = DEFAULT_CORPUS_CACHE
                   ) -> dict[str, Any]:
    """vibenet (and, with ``musicnn``, musicnn) scores of one file, cached as JSON in ``cache_dir``.

    ``vibenet_model`` and ``taggers`` are called (lazily) only when a score must be computed.

    Both are computed exactly as the corpus build computes its teacher signals, and read from
    the build's own caches under ``corpus_cache`` (``corpus/analysis``, ``corpus/teachers``)
    when it has already analysed the file (it analyses the held-out packages too, for their
    test split; files under 30 s are not in the corpus and are analysed here):

    * ``vibenet``: [valence, energy], mean over the 10 s windows (5 s hop) of
      ``training.corpus.cues.analyse`` (``vibenet_va`` of each window; windows below -55 dBFS
      skipped).
    * ``musicnn``: per tagger (MTT_vgg, MSD_vgg) the mean over the same windows of the tag
      probabilities of each window's central 3 s patch (``training.corpus.teachers.
      analyse_track``: every second window heard, the others interpolated), and the zero-shot
      valence and arousal of those mean tags (``tag_valence_arousal``). One patch per 10 s
      instead of every 3 s patch of ``tag_audio``: the taggers cost 0.1-0.3 s of CPU per patch.
    """
    path = _cache_file(cache_dir, f)
    tag = _file_tag(f)
    doc: dict[str, Any] = {}
    if path.exists():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            doc = {}
        if doc.get("file_tag") != tag:
            doc = {}
    changed = False
    safe = f"game__{f.package}__{f.stem}"
    if "vibenet" not in doc:
        rows, source = None, None
        done = corpus_cache / "corpus" / "analysis" / f"{safe}.json" if corpus_cache else None
        if done is not None and done.exists():
            wins = json.loads(done.read_text(encoding="utf-8"))
            rows = [w["vibenet"] for w in wins if w.get("vibenet") is not None] or None
            source = "corpus analysis cache"
        vm = vibenet_model() if rows is None and vibenet_model is not None else None
        if vm is not None:
            from training.corpus import cues

            wins = cues.analyse(cues.load_audio(f.path), vm)
            rows = [w["vibenet"] for w in wins if w.get("vibenet") is not None] or None
            source = "computed"
        if rows:
            doc["vibenet"] = np.mean(rows, axis=0).round(5).tolist()
            doc["vibenet_windows"] = len(rows)
            doc["vibenet_source"] = source
            changed = True
    if musicnn and "musicnn" not in doc:
        from training.corpus import teachers as T

        tags, source = None, None
        done = corpus_cache / "corpus" / "teachers" / f"{safe}.npz" if corpus_cache else None
        if done is not None and done.exists():
            with np.load(done) as z:
                if all(m in z.files for m in TEACHER_TAGGERS) and len(z["starts"]):
                    tags = {m: z[m].astype(np.float64) for m in TEACHER_TAGGERS}
                    source = "corpus teachers cache"
        if tags is None:
            import torch

            with torch.inference_mode():
                res = T.analyse_track(f.path, taggers())
            tags = {m: np.asarray(res[m], dtype=np.float64) for m in TEACHER_TAGGERS}
            source = "computed"
        if all(len(t) for t in tags.values()):
            means = {m: t.mean(0) for m, t in tags.items()}
            v, a = T.tag_valence_arousal({m: x[None] for m, x in means.items()})
            doc["musicnn"] = {"valence": float(v[0]), "arousal": float(a[0]), "source": source,
                              "windows": int(len(next(iter(tags.values())))),
                              "tags": {m: x.round(5).tolist() for m, x in means.items()}}
            changed = True
    if changed:
        doc["file_tag"] = tag
        doc["key"] = f.key
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    return doc
