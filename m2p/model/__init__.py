"""The network and its weights: ``config`` (``ModelConfig`` and named presets), ``encoder``
(the music encoder and what it hears), ``heads`` (emotion, teacher tags, palette families,
length keys), ``decoder`` (the colour decoder), ``decoding`` (the one decode policy),
``network`` (``Music2Palette``, assembling them), ``weights`` (finding and loading model
folders) and ``musicnn`` (the pretrained musicnn taggers, ported to torch)."""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "Music2Palette": "m2p.model.network",
    "ModelConfig": "m2p.model.config",
    "MusicEncoding": "m2p.model.encoder",
    "MusicEncoder": "m2p.model.encoder",
    "EncoderInput": "m2p.model.encoder",
    "DecodingOptions": "m2p.model.decoding",
    "load_model": "m2p.model.weights",
    "save_model": "m2p.model.weights",
    "musicnn": ("m2p.model.musicnn", None),
})
