"""The ``m2p`` command line: the dispatcher (:func:`main`) and the core commands ``palette``,
``track``, ``live`` and ``plugins``.

Usage::

    m2p palette SONG [--json] [--seed N] [--noise S] [--device D] [--model DIR] [-n N]
    m2p track SONG [-o track.json] [--png timeline.png] [--window S] [--hop S] [--json]
    m2p live [SOURCE|-] [--rate HZ] [--channels N] [--format f32le] [--realtime] [--swatches]
    m2p plugins [--json] [--verbose]
    m2p export SONG --format FORMAT [-o FILE] [--at S | --sections [N]]   (m2p.cli.export)
    m2p batch PATH... -o library.parquet | m2p gallery library.parquet -o site/   (m2p.cli.library)
    m2p grade | recolor | race | match ...   (added by adapters, here the video adapter)

Exit status: 0 success, 1 an error with the input or environment (one line on stderr,
``m2p: error: <message>``, no traceback; a missing optional package says how to install it),
2 a usage error (argparse), 130 Ctrl-C, 128 + N a termination signal N (SIGTERM: 143). An
interrupted or terminated command removes its partial outputs and keeps the previous files.
File names in messages are escaped (:func:`m2p._internal.text.printable`): a name holding
terminal escape sequences is shown, never obeyed.

Adding a subcommand
-------------------
The core's own commands are ONE line each in :data:`SUBCOMMANDS`::

    Subcommand("track", "m2p.cli.core", "configure_track", "Make a palette track."),

An adapter adds its commands itself, through the ``register_commands`` hook
(:mod:`m2p.hooks.specs`); the core never names them. Only the module of the core subcommand
being run is imported, and an adapter's ``configure`` is only called for its own command. The
configure function receives the subcommand's :class:`argparse.ArgumentParser`, adds its
arguments and returns the handler, ``handler(args: argparse.Namespace) -> int`` (the exit
status)::

    def configure_cli(parser):
        parser.add_argument("image")
        add_inference_arguments(parser)       # --seed --noise --device --model --window ...
        def run(args):
            ...
            return 0
        return run

Handlers raise :class:`m2p.errors.M2PError` for user-facing problems; :func:`main` turns them
into one line on stderr and exit status 1. What commands share: the argument types and the
inference options (:mod:`m2p.cli.args`), and what they print (:mod:`m2p.cli.output`).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from m2p.cli.args import (
    add_example,
    add_inference_arguments,
    inference_kwargs,
    palette_count,
    positive_int,
)
from m2p.cli.output import print_palette, print_summary, print_track, spacing
from m2p._internal.extras import missing_extra
from m2p._internal.signals import Terminated, termination_raises
from m2p._internal.text import first_line, printable
from m2p.errors import M2PError
from m2p.hooks.specs import Handler

if TYPE_CHECKING:
    from m2p.hooks.manager import PluginInfo, Registered

PROG = "m2p"


class Subcommand(NamedTuple):
    """One core ``m2p`` subcommand: ``configure(parser) -> handler`` lives at ``module:function``."""

    name: str
    module: str
    function: str
    help: str


EXAMPLES: dict[str, str] = {
    "palette": "m2p palette song.mp3\nm2p palette song.mp3 -n 3 --json",
    "track": "m2p track song.mp3 -o track.json --png timeline.png",
    "live": "ffmpeg -nostdin -i URL -f wav - | m2p live\n"
            "ffmpeg -nostdin -i URL -f wav - | m2p live --sync beat",
    "plugins": "m2p plugins --verbose",
    "export": "m2p export song.mp3 --format ase --sections 4 -o song.ase\n"
              "m2p export song.mp3 --format css --at 30 -o theme.css",
    "batch": "m2p batch ~/Music -o library.parquet\nm2p batch a.mp3 b.ogg -o library.parquet --engine ray",
    "gallery": "m2p gallery library.parquet -o site/",
}
"""The example shown under each core command's ``--help``."""

#: The core's commands. One line each; modules are imported only when their command runs.
#: Adapters add theirs through the ``register_commands`` hook (:mod:`m2p.hooks.specs`).
SUBCOMMANDS: list[Subcommand] = [
    Subcommand("palette", "m2p.cli.core", "configure_palette", "Print the palette of a piece of music."),
    Subcommand("track", "m2p.cli.core", "configure_track", "Make a palette track (one palette per window)."),
    Subcommand("live", "m2p.cli.core", "configure_live", "Palettes of a live stream, one JSON line per window."),
    Subcommand("plugins", "m2p.cli.core", "configure_plugins", "List the installed adapters (plugins)."),
    Subcommand("export", "m2p.cli.export", "configure_export", "Export a palette as a file (swatches, LUTs...)."),
    Subcommand("batch", "m2p.cli.library", "configure_batch", "Analyse a music library into one table."),
    Subcommand("gallery", "m2p.cli.library", "configure_gallery", "Write a static HTML gallery of a library."),
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 error, 2 usage error, 130
    interrupted, 128 + N terminated by signal N, 141 the reader of standard output left)."""
    _tolerant_streams()
    _matplotlib_config_dir()
    try:
        with termination_raises():
            return _main(argv)
    except KeyboardInterrupt as exc:  # while adapters load or arguments are parsed
        return _interrupted(exc)
    finally:
        if argv is None:  # the ``m2p`` program: the process ends next
            # Objects alive now die with the process; the interpreter's final collection of
            # torch's module graph would take 0.2-0.3 s (docs/performance.md).
            gc.freeze()


def _main(argv: Sequence[str] | None) -> int:
    # torch's OpenMP workers spin-wait by default, which costs more than it saves on small
    # CPUs (docs/performance.md); this only takes effect if torch is not imported yet.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _root_parser()
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _chosen_command(args_list)
    handler: Handler | None = None
    try:
        core = {entry.name for entry in SUBCOMMANDS}
        for entry in SUBCOMMANDS:
            sub = subparsers.add_parser(entry.name, help=entry.help, description=entry.help)
            add_example(sub, EXAMPLES.get(entry.name, ""))
            if entry.name == chosen:
                handler = _configure(entry, sub)
        for command in _adapter_commands(exclude=core):
            sub = subparsers.add_parser(command.name, help=command.help,
                                        description=command.help)
            if command.name == chosen:
                handler = _configure_adapter_command(command, sub)
        if chosen is not None and handler is None and chosen not in core:
            _refuse_unavailable(chosen)
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version, usage errors: argparse already printed
        return _exit_code(exc)
    except M2PError as exc:
        return _report(exc)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return int(handler(args) or 0)
        except M2PError as exc:
            return _report(exc)
        except BrokenPipeError as exc:
            if _reader_gone(sys.stdout):  # ``m2p ... | head``: stop quietly, as ls or grep do
                return _stop_writing()
            return _report(exc)  # a helper process (ffmpeg) died: that is an error
        except OSError as exc:  # unwritable output path, full disk...
            return _report(exc)
        except KeyboardInterrupt as exc:
            return _interrupted(exc)
        except ImportError as exc:  # an optional package, found missing deep down
            extra = missing_extra(exc, f"{PROG} {args.command}")
            if extra is None:
                return _internal_error(exc)
            return _report(extra)
        except (MemoryError, RecursionError) as exc:
            return _report(M2PError(f"out of resources ({type(exc).__name__}); the input is "
                                    "too large or too deeply nested"))
        except Exception as exc:  # noqa: BLE001 - a bug: still one line, traceback on request
            return _internal_error(exc)


def _internal_error(exc: BaseException) -> int:
    if os.environ.get("M2P_DEBUG"):
        raise exc
    text = " ".join(str(exc).split())[:200]
    return _report(M2PError(f"internal error ({type(exc).__name__}: {text}); please "
                            "report it (M2P_DEBUG=1 shows the traceback)"))


def _interrupted(exc: KeyboardInterrupt) -> int:
    """Ctrl-C: exit 130; a termination signal: exit 128 + its number (partial outputs are
    already removed: the interrupt ran every ``finally`` on its way here)."""
    if isinstance(exc, Terminated):
        print(f"{PROG}: terminated ({exc.args[0].split()[-1]}); partial outputs removed",
              file=sys.stderr)
        return 128 + exc.signum
    print(f"{PROG}: interrupted", file=sys.stderr)
    return 130


# ----------------------------------------------------------------------------------------------
# Built-in subcommands
# ----------------------------------------------------------------------------------------------


def configure_palette(parser: argparse.ArgumentParser) -> Handler:
    """``m2p palette SONG``: print the whole-piece palette."""
    parser.add_argument("song", help="audio file (wav, flac, mp3, ogg, m4a...)")
    parser.add_argument("-n", "--count", type=palette_count, default=1, metavar="N",
                        help="print N different palettes (default 1)")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    add_inference_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        import m2p

        kwargs = inference_kwargs(args)
        if args.count == 1:
            results = [m2p.palette(args.song, **kwargs)]
        else:
            results = m2p.palettes(args.song, n=args.count, **kwargs)
        out = sys.stdout
        if args.json:
            docs = [{"source": args.song, "seed": args.seed, **p.to_dict()} for p in results]
            out.write(json.dumps(docs[0] if args.count == 1 else docs, indent=2) + "\n")
            return 0
        for i, result in enumerate(results):
            if i:
                out.write("\n")
            print_palette(result, out)
        return 0

    return run


def configure_track(parser: argparse.ArgumentParser) -> Handler:
    """``m2p track SONG``: compute a palette track, write JSON and/or a timeline PNG."""
    parser.add_argument("song", help="audio file (wav, flac, mp3, ogg, m4a...)")
    parser.add_argument("-o", "--output", metavar="JSON",
                        help="write the track as JSON to this file ('-' for stdout)")
    parser.add_argument("--png", metavar="PNG", help="write a timeline picture to this file")
    parser.add_argument("--json", action="store_true", help="print the track JSON on stdout")
    add_inference_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        import m2p
        from m2p._internal.outputs import atomic_outputs, check_output
        from m2p.exporters.render import track_timeline

        to_stdout = args.output == "-" or args.json
        json_path = args.output if args.output and args.output != "-" and not args.json else None
        files = [p for p in (json_path, args.png) if p]
        # Checked before the model runs: a bad path fails now, not after all the work.
        if len(files) == 2 and os.path.abspath(files[0]) == os.path.abspath(files[1]):
            raise M2PError("-o and --png name the same file", source=files[0])
        for path in files:
            check_output(path, inputs=(args.song, *(f for f in files if f is not path)))
        track = m2p.palette_track(args.song, **inference_kwargs(args))
        if to_stdout:
            sys.stdout.write(track.to_json(indent=2) + "\n")
        if files:
            # Both files are renamed into place only when both are complete (all or nothing).
            with atomic_outputs(*files) as temps:
                written = dict(zip(files, temps))
                if json_path:
                    written[json_path].write_text(track.to_json(indent=2) + "\n", encoding="utf-8")
                if args.png:
                    track_timeline(track).save(written[args.png], format="PNG", optimize=True)
        if not (args.output or args.json or args.png):
            print_track(track, sys.stdout)
        elif files:
            asked = spacing(track, window=args.window, hop=args.hop)  # not the rounded ones
            print_summary(" and ".join(files), f"{len(track)} palettes over "
                          f"{track.duration:.1f} s ({asked})", track.overall)
        return 0

    return run


def configure_live(parser: argparse.ArgumentParser) -> Handler:
    """``m2p live [SOURCE]``: palettes of a stream as it plays, one JSON line per window."""
    from m2p.inference.live import PCM_FORMATS

    parser.add_argument("source", nargs="?", default="-",
                        help="'-' (default): standard input, a WAV stream ('ffmpeg -i URL -f wav "
                             "-': the same palettes as 'm2p track') or raw PCM (see --rate, "
                             "--channels, --format); or an audio file")
    parser.add_argument("--rate", type=positive_int, default=22050, metavar="HZ",
                        help="sample rate of raw PCM on standard input (default 22050)")
    parser.add_argument("--channels", type=positive_int, default=1, metavar="N",
                        help="interleaved channels of raw PCM on standard input (default 1; "
                             "pipe stereo as it is: -ac 2 ... --channels 2)")
    parser.add_argument("--format", choices=sorted(PCM_FORMATS), default="f32le",
                        help="sample format of raw PCM on standard input (default f32le)")
    parser.add_argument("--realtime", action="store_true",
                        help="play a file at its real speed (as if it were a live stream)")
    parser.add_argument("--swatches", action="store_true",
                        help="also draw each palette as a swatch bar on stderr (a terminal)")
    parser.add_argument("--sync", choices=("beat", "downbeat"), default=None,
                        help="track the beat and print one line per beat (or downbeat) instead "
                             "of one per window: 'beat': true, its stream time, the latency, "
                             "and the palette to show from that beat on (a new window's "
                             "palette waits for the next beat)")
    parser.add_argument("--latency-offset", type=float, default=0.0, metavar="SECONDS",
                        help="with --sync: add this to the times the lines carry, to line them "
                             "up with a display that shows them this late (default 0)")
    add_inference_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        from m2p.audio.decode import SAMPLE_RATE
        from m2p.inference.live import BeatLines, PaletteStream, read_pipe, window_json

        kwargs = inference_kwargs(args)
        kwargs.pop("batch_size"), kwargs.pop("progress")
        if args.source == "-":
            label = "<stdin>"
            rate, blocks = read_pipe(sys.stdin.fileno(), fmt=args.format, channels=args.channels,
                                     rate=args.rate, label=label)
        else:
            rate, label = SAMPLE_RATE, args.source
            blocks = _file_blocks(args.source, realtime=args.realtime)
        stream = PaletteStream(sample_rate=rate, label=label, beats=args.sync is not None,
                               **kwargs)
        synced = None if args.sync is None else BeatLines(args.sync, offset=args.latency_offset)

        def emit(windows) -> None:
            if synced is not None:  # palettes wait for the beat; one line per beat
                for line in synced.lines(windows, stream.take_beats()):
                    sys.stdout.write(line + "\n")
                    sys.stdout.flush()
                return
            for window in windows:
                sys.stdout.write(window_json(window) + "\n")
                sys.stdout.flush()
                if args.swatches:
                    from m2p.exporters.render import ansi_swatches

                    sys.stderr.write(f"{window.time:8.2f} s  {ansi_swatches(window.palette, width=3)}\n")
                    sys.stderr.flush()

        for block in blocks:
            emit(stream.feed(block))
        emit(stream.close())
        if stream.seconds < 1.0:
            raise M2PError(f"the stream ended after {stream.seconds:.2f} s; at least 1 s is needed",
                           source=label)
        return 0

    return run


def configure_plugins(parser: argparse.ArgumentParser) -> Handler:
    """``m2p plugins``: the installed adapters, their versions, capabilities and commands."""
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also print modules and capability descriptions")

    def run(args: argparse.Namespace) -> int:
        from m2p.errors import PluginWarning
        from m2p.hooks.manager import plugins

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PluginWarning)  # failures are printed in the table
            infos = plugins()
        if args.json:
            print(json.dumps([info.to_dict() for info in infos], indent=2))
        else:
            print(format_plugins(infos, verbose=args.verbose))
        return 0

    return run


def _file_blocks(path: str, *, realtime: bool, block_seconds: float = 0.1):
    """A file's samples in short blocks (22,050 Hz mono), paced at real speed with ``realtime``."""
    import time

    from m2p.audio.decode import SAMPLE_RATE, stream

    start = time.monotonic()
    played = 0.0
    for block in stream(path, block_seconds=block_seconds):
        if realtime:
            time.sleep(max(0.0, start + played - time.monotonic()))
        played += len(block) / SAMPLE_RATE
        yield block


def format_plugins(infos: "list[PluginInfo]", *, verbose: bool = False) -> str:
    """Plain-text table of adapters (what ``m2p plugins`` prints)."""
    if not infos:
        return "no m2p adapters installed"
    rows = [("NAME", "VERSION", "STATUS", "PROVIDES")]
    for info in infos:
        shown = [*info.provides, *(f"m2p {c}" for c in info.commands),
                 *(f"format {f}" for f in info.formats)]
        provides = ", ".join(shown) if shown else "-"
        status = info.error if info.status == "missing" and info.error else info.status
        rows.append((info.name, info.version or "?", status, provides))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip()
             for r in rows]
    for info in infos:
        if info.error and info.status != "missing":  # a missing adapter's line is its status
            lines.append(f"  {info.name}: {printable(info.error)}")
        if verbose:
            if info.module:
                lines.append(f"  {info.name}: module {info.module} ({info.distribution or '?'})")
            for cap, text in info.descriptions.items():
                lines.append(f"    {cap}: {text}" if text else f"    {cap}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Internals
# ----------------------------------------------------------------------------------------------


def _root_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="music2palette: turn music into colour palettes.",
        epilog="Run 'm2p COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _chosen_command(args: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first non-option word), if any."""
    for word in args:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def _configure(entry: Subcommand, parser: argparse.ArgumentParser) -> Handler:
    try:
        module = importlib.import_module(entry.module)
        configure = getattr(module, entry.function)
    except (ImportError, AttributeError) as exc:
        extra = missing_extra(exc, f"{PROG} {entry.name}")
        if extra is not None:
            raise extra from None
        raise M2PError(f"command {entry.name!r} is unavailable ({exc})") from exc
    return configure(parser)


def _adapter_commands(*, exclude: set[str]) -> "list[Registered]":
    """The commands the loaded adapters registered, minus those the core owns."""
    from m2p.errors import PluginWarning
    from m2p.hooks.manager import commands

    with warnings.catch_warnings():
        # A broken adapter is listed by `m2p plugins`; it must not talk over every command.
        warnings.simplefilter("ignore", PluginWarning)
        registered = commands()
    return [command for name, command in registered.items() if name not in exclude]


def _configure_adapter_command(command: "Registered", parser: argparse.ArgumentParser
                               ) -> Handler:
    from m2p.hooks.manager import DEFAULT_PLUGINS

    try:
        return command.obj(parser)
    except M2PError:
        raise
    except Exception as exc:  # noqa: BLE001 - an adapter's bug must not become a traceback
        extra = missing_extra(exc, f"{PROG} {command.name}")
        if extra is not None:
            raise extra from None
        if command.plugin in DEFAULT_PLUGINS and isinstance(exc, (ImportError, AttributeError)):
            detail = str(exc)
        else:
            detail = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        raise M2PError(f"command {command.name!r} of the {command.plugin!r} adapter is "
                       f"unavailable ({detail})") from None


def _refuse_unavailable(command: str) -> None:
    """An adapter's command whose adapter is left out or broken: say so (exit 1), not usage."""
    from m2p.hooks.manager import unavailable_reason

    reason = unavailable_reason(command, kind="command")
    if reason is not None:
        raise M2PError(reason)


def _report(exc: BaseException) -> int:
    message = str(exc) if isinstance(exc, M2PError) else _os_error_text(exc)
    print(f"{PROG}: error: {printable(first_line(message) or type(exc).__name__)}",
          file=sys.stderr)
    return 1


def _os_error_text(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"{PROG}: warning: {printable(first_line(str(message)))}", file=sys.stderr)


def _reader_gone(stream: object) -> bool:
    """True when ``stream`` is a pipe whose reading end was closed (``poll`` reports an error
    on the writing end then)."""
    import select

    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)  # type: ignore[attr-defined]
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return False


def _stop_writing() -> int:
    """Exit status 141 (128 + SIGPIPE, what a shell reports for a writer whose reader left),
    with standard output pointed at /dev/null so that the interpreter's last flush of it
    cannot print a second error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


def _tolerant_streams() -> None:
    """Text that the terminal's encoding lacks (a Unicode file name under ``LC_ALL=C`` or
    ``PYTHONIOENCODING=ascii``) is written as escapes instead of failing the command."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "") == "strict":
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def _matplotlib_config_dir() -> None:
    """Point ``MPLCONFIGDIR`` at a private folder when Matplotlib's default one cannot be
    made (a read-only HOME): Matplotlib would otherwise print "mkdir -p failed" and a
    "created a temporary cache directory" notice on every command that draws."""
    if os.environ.get("MPLCONFIGDIR"):
        return
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    default = os.path.join(base, "matplotlib")
    probe = default
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)  # the deepest folder that exists must let us create
    if os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK):
        return
    import tempfile

    private = os.path.join(tempfile.gettempdir(), f"m2p-matplotlib-{os.getuid()}")
    with contextlib.suppress(OSError):
        os.makedirs(private, mode=0o700, exist_ok=True)
        if os.access(private, os.W_OK):
            os.environ["MPLCONFIGDIR"] = private


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _version() -> str:
    import m2p

    return m2p.__version__
