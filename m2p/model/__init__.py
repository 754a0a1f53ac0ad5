"""The network and its weights: ``network`` (the Music2Palette ``nn.Module`` and its config),
``weights`` (finding and loading model folders) and ``musicnn`` (the pretrained musicnn
taggers, ported to torch)."""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "Music2Palette": "m2p.model.network",
    "ModelConfig": "m2p.model.network",
    "MusicEncoding": "m2p.model.network",
    "load_model": "m2p.model.weights",
    "save_model": "m2p.model.weights",
    "musicnn": ("m2p.model.musicnn", None),
})
