"""The plugin system: lazy loading, M2P_LOAD_PLUGINS, failure reporting, third-party adapters."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import m2p.cli.core as cli_mod
import m2p.hooks.front_doors as front_doors
import m2p.hooks.manager as plugins_mod
from m2p.errors import M2PWarning, PluginError, PluginWarning

BUILTINS = ("altair", "bokeh", "matplotlib", "plotly", "video")


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch: pytest.MonkeyPatch):
    """Each test starts and ends with an unloaded plugin manager and no M2P_LOAD_PLUGINS."""
    monkeypatch.delenv("M2P_LOAD_PLUGINS", raising=False)
    plugins_mod.reset()
    yield
    plugins_mod.reset()


# --- helpers: real distributions with entry points -----------------------------------------------


def _dist_files(dist: str, version: str, entry_points: dict[str, str],
                modules: dict[str, str]) -> dict[str, str]:
    """Files of an installed distribution: its modules plus ``<dist>-<version>.dist-info``."""
    info = f"{dist}-{version}.dist-info"
    files = {f"{name}.py": textwrap.dedent(src) for name, src in modules.items()}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
    files[f"{info}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: m2p-tests\n"
                              "Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = "[m2p]\n" + "".join(
        f"{name} = {target}\n" for name, target in entry_points.items())
    return files


def _install_on_path(site: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Write a distribution into ``site`` (like an unpacked wheel) and put it on sys.path."""
    for rel, text in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _activate(site, files, monkeypatch)


def _activate(site: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    for rel in files:
        if rel.endswith(".py"):
            monkeypatch.delitem(sys.modules, rel[:-3].replace("/", "."), raising=False)


def _build_wheel(out: Path, dist: str, version: str, files: dict[str, str]) -> Path:
    """A valid pure-Python wheel (zip + RECORD with hashes) that pip installs offline."""
    info = f"{dist}-{version}.dist-info"
    record = []
    wheel = out / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for rel, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{rel},sha256={digest},{len(data)}")
            zf.writestr(rel, data)
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


# --- built-in adapters and laziness --------------------------------------------------------------


def test_importing_m2p_loads_no_plugin_and_no_plotting_library():
    code = (
        "import sys, m2p, m2p.hooks.manager, m2p.hooks.front_doors, m2p.hooks.specs\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('m2p_plugins', 'matplotlib', 'altair', 'moviepy')]\n"
        "assert not bad, bad\n"
        "assert m2p.hooks.manager._STATE is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_clean_env())


def test_loading_adapters_does_not_import_matplotlib_or_altair():
    code = (
        "import sys, m2p.hooks.manager as p\n"
        "infos = p.plugins()\n"
        "assert {i.name for i in infos} >= {'matplotlib', 'altair'}, infos\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'altair', 'moviepy')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_clean_env())


def test_builtin_adapters_are_listed_with_versions_and_capabilities():
    from importlib.metadata import version

    infos = {info.name: info for info in plugins_mod.plugins()}
    assert set(BUILTINS) <= set(infos)
    for name in ("matplotlib", "altair"):
        assert infos[name].status == "loaded", infos[name]
        assert infos[name].version == version("music2palette")
        assert infos[name].distribution == "music2palette"
        assert infos[name].module == f"m2p_plugins.{name}"
    assert {"style", "colormaps", "animate_colors"} <= set(infos["matplotlib"].provides)
    assert "altair" in infos["altair"].provides
    assert plugins_mod.get("style").__module__ == "m2p_plugins.matplotlib._style"


def test_m2p_plugins_is_the_listing_function_even_after_submodule_imports():
    import m2p
    import m2p.hooks.front_doors  # noqa: F401
    import m2p.hooks.manager  # noqa: F401

    assert [i.name for i in m2p.plugins()] == [i.name for i in plugins_mod.plugins()]
    assert m2p.plugins is plugins_mod.plugins


# --- third-party adapters ------------------------------------------------------------------------

HELLO_ADAPTER = """
    import m2p.hooks.specs

    CALLS = []

    def shout(text):
        CALLS.append(text)
        return text.upper() + "!"

    @m2p.hooks.specs.hookimpl
    def m2p_register(register):
        register("shout", shout, description="shouts")
"""


def test_pip_installed_third_party_adapter_is_discovered_and_called(tmp_path, monkeypatch):
    files = _dist_files("m2p-hello-adapter", "0.3.0", {"hello": "m2p_hello_adapter"},
                        {"m2p_hello_adapter": HELLO_ADAPTER})
    wheel = _build_wheel(tmp_path, "m2p_hello_adapter", "0.3.0", {
        k.replace("m2p-hello-adapter", "m2p_hello_adapter"): v for k, v in files.items()})
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                    "--no-compile", "--disable-pip-version-check", "--quiet",
                    "--target", str(site), str(wheel)], check=True)
    assert (site / "m2p_hello_adapter.py").is_file()
    _activate(site, {"m2p_hello_adapter.py": ""}, monkeypatch)

    infos = {info.name: info for info in plugins_mod.plugins()}
    hello = infos["hello"]
    assert (hello.status, hello.version, hello.provides) == ("loaded", "0.3.0", ("shout",))
    assert hello.distribution == "m2p-hello-adapter"
    assert plugins_mod.get("shout")("hi") == "HI!"
    assert sys.modules["m2p_hello_adapter"].CALLS == ["hi"]
    assert infos["matplotlib"].status == "loaded"  # built-ins unaffected


def test_adapter_failing_to_import_is_reported_and_skipped(tmp_path, monkeypatch):
    files = _dist_files(
        "m2p-mixed", "1.0", {"broken": "m2p_broken_adapter", "good": "m2p_good_adapter"},
        {"m2p_broken_adapter": "raise ImportError('needs libfrobnicate')\n",
         "m2p_good_adapter": HELLO_ADAPTER})
    _install_on_path(tmp_path, files, monkeypatch)

    with pytest.warns(PluginWarning, match=r"'broken'.*needs libfrobnicate"):
        infos = {info.name: info for info in plugins_mod.plugins()}
    assert infos["broken"].status == "failed"
    assert infos["broken"].error == "ImportError: needs libfrobnicate"
    assert infos["broken"].provides == ()
    assert infos["good"].status == "loaded"
    assert plugins_mod.get("shout")("ok") == "OK!"
    assert infos["matplotlib"].status == "loaded"
    assert "broken" in cli_mod.format_plugins(list(infos.values()))


def test_adapter_whose_hook_raises_is_reported_and_skipped(tmp_path, monkeypatch):
    files = _dist_files("m2p-raiser", "2.0", {"raiser": "m2p_raiser_adapter"}, {
        "m2p_raiser_adapter": """
            import m2p.hooks.specs

            @m2p.hooks.specs.hookimpl
            def m2p_register(register):
                register("half", object())
                raise RuntimeError("registration exploded")
        """})
    _install_on_path(tmp_path, files, monkeypatch)
    with pytest.warns(PluginWarning, match="registration exploded"):
        infos = {info.name: info for info in plugins_mod.plugins()}
    assert infos["raiser"].status == "failed"
    assert "RuntimeError: registration exploded" in infos["raiser"].error
    assert "half" not in plugins_mod.available()  # nothing half-registered survives
    assert infos["altair"].status == "loaded"


def test_clashing_capability_keeps_the_builtin_and_warns(tmp_path, monkeypatch):
    # "aa_clash" sorts (and, being first on sys.path, is discovered) before "matplotlib".
    files = _dist_files("m2p-clash", "0.1", {"aa_clash": "m2p_clash_adapter"}, {
        "m2p_clash_adapter": """
            import m2p.hooks.specs

            @m2p.hooks.specs.hookimpl
            def m2p_register(register):
                register("style", lambda *a, **k: "hijacked")
        """})
    _install_on_path(tmp_path, files, monkeypatch)
    with pytest.warns(PluginWarning, match="'aa_clash' registers 'style', already provided by "
                                           "'matplotlib'"):
        infos = {info.name: info for info in plugins_mod.plugins()}
    assert plugins_mod.available()["style"] == "matplotlib"
    assert infos["aa_clash"].status == "loaded" and infos["aa_clash"].provides == ()


def test_adapter_registered_by_hand():
    import types

    import m2p.hooks.specs

    adapter = types.SimpleNamespace()

    @m2p.hooks.specs.hookimpl
    def m2p_register(register):
        register("double", lambda x: 2 * x, description="twice")

    adapter.m2p_register = m2p_register
    info = plugins_mod.register(adapter, name="by_hand")
    assert (info.name, info.status, info.provides) == ("by_hand", "loaded", ("double",))
    assert plugins_mod.get("double")(21) == 42
    assert "by_hand" in {i.name for i in plugins_mod.plugins()}


# --- M2P_LOAD_PLUGINS ----------------------------------------------------------------------------


def test_empty_variable_loads_no_adapter(monkeypatch):
    monkeypatch.setenv("M2P_LOAD_PLUGINS", "")
    infos = plugins_mod.plugins()
    assert {i.name for i in infos} >= set(BUILTINS)
    assert all(i.status == "disabled" and i.provides == () for i in infos)
    assert plugins_mod.available() == {}
    with pytest.raises(PluginError, match="M2P_LOAD_PLUGINS"):
        plugins_mod.get("style")
    with pytest.raises(PluginError, match="'altair' adapter"):
        front_doors.altair.register_theme  # noqa: B018 - attribute access is the test
    assert plugins_mod.plugins(include_disabled=False) == []


def test_variable_selects_adapters_and_reports_unknown_names(monkeypatch):
    monkeypatch.setenv("M2P_LOAD_PLUGINS", " altair , nosuchadapter")
    with pytest.warns(PluginWarning, match="nosuchadapter"):
        infos = {info.name: info for info in plugins_mod.plugins()}
    assert infos["altair"].status == "loaded"
    assert infos["matplotlib"].status == "disabled"
    assert infos["nosuchadapter"].status == "failed"
    assert "no adapter named 'nosuchadapter'" in infos["nosuchadapter"].error
    assert callable(front_doors.altair.register_theme)
    with pytest.raises(PluginError, match="leaves out"):
        front_doors.style("song.mp3")


def test_reset_rereads_the_variable(monkeypatch):
    monkeypatch.setenv("M2P_LOAD_PLUGINS", "")
    assert plugins_mod.available() == {}
    monkeypatch.setenv("M2P_LOAD_PLUGINS", "matplotlib")
    assert plugins_mod.available() == {}  # loaded state is kept until reset
    plugins_mod.reset()
    assert "style" in plugins_mod.available()


# --- command line --------------------------------------------------------------------------------


def test_cli_lists_adapters_as_text_and_json(capsys):
    assert cli_mod.main(["plugins"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["NAME", "VERSION", "STATUS", "PROVIDES"]
    assert any(line.startswith("matplotlib") and "style" in line for line in text.splitlines())

    assert cli_mod.main(["plugins", "--json"]) == 0
    listed = {item["name"]: item for item in json.loads(capsys.readouterr().out)}
    assert "animate_colors" in listed["matplotlib"]["provides"]
    assert listed["altair"]["status"] == "loaded"


def test_cli_subcommand_hook_for_the_m2p_command(capsys):
    import argparse

    parser = argparse.ArgumentParser(prog="m2p plugins")
    handler = cli_mod.configure_plugins(parser)
    assert handler(parser.parse_args(["--json"])) == 0
    assert {"matplotlib", "altair"} <= {i["name"] for i in json.loads(capsys.readouterr().out)}


def test_cli_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "m2p", "plugins", "--verbose"], check=True,
                         capture_output=True, text=True, env=_clean_env()).stdout
    assert "m2p_plugins.matplotlib" in out and "altair" in out


def _clean_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("M2P_LOAD_PLUGINS", None)
    return env


def test_m2p_plugins_command(capsys):
    cli = pytest.importorskip("m2p.cli.core")
    if "plugins" not in {entry.name for entry in getattr(cli, "SUBCOMMANDS", [])}:
        pytest.skip("the plugins subcommand is not registered in m2p.cli.core yet")
    assert cli.main(["plugins"]) == 0
    assert "matplotlib" in capsys.readouterr().out


# --- adapters own their commands -----------------------------------------------------------------

GREET_ADAPTER = """
    import m2p.hooks.specs

    def configure_greet(parser):
        parser.add_argument("who")
        parser.add_argument("--loud", action="store_true")

        def run(args):
            text = "hello " + args.who
            print(text.upper() if args.loud else text)
            return 0

        return run

    @m2p.hooks.specs.hookimpl
    def register_commands(register):
        register("greet", configure_greet, help="Greet someone (a throwaway adapter's command).")
"""


def test_third_party_adapter_adds_a_command(tmp_path, monkeypatch, capsys):
    import m2p.cli.core as cli

    files = _dist_files("m2p-greet", "0.0.1", {"greet": "m2p_greet_adapter"},
                        {"m2p_greet_adapter": GREET_ADAPTER})
    _install_on_path(tmp_path, files, monkeypatch)

    assert cli.main(["--help"]) == 0
    help_text = capsys.readouterr().out
    assert "greet" in help_text and "Greet someone" in help_text
    assert cli.main(["greet", "ada", "--loud"]) == 0
    assert capsys.readouterr().out == "HELLO ADA\n"
    assert cli.main(["greet", "--help"]) == 0
    assert "--loud" in capsys.readouterr().out

    assert cli.main(["plugins"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("greet"))
    assert line.split()[:3] == ["greet", "0.0.1", "loaded"] and "m2p greet" in line
    assert cli.main(["plugins", "--json"]) == 0
    listed = {item["name"]: item for item in json.loads(capsys.readouterr().out)}
    assert listed["greet"]["commands"] == ["greet"]
    assert plugins_mod.commands()["greet"].plugin == "greet"


def test_command_registered_by_hand_and_core_commands_win(capsys):
    import types

    import m2p.cli.core as cli
    import m2p.hooks.specs

    adapter = types.SimpleNamespace()

    @m2p.hooks.specs.hookimpl
    def register_commands(register):
        register("shout-it", lambda parser: (lambda args: print("LOUD") or 0), help="shouts")
        register("palette", lambda parser: (lambda args: 99), help="hijack")

    adapter.register_commands = register_commands
    info = plugins_mod.register(adapter, name="by_hand_cmd")
    assert info.status == "loaded" and info.commands == ("shout-it", "palette")
    assert cli.main(["shout-it"]) == 0
    assert capsys.readouterr().out == "LOUD\n"
    assert cli.main(["palette", "--help"]) == 0  # the core's palette, not the adapter's
    assert "--seed" in capsys.readouterr().out


def test_video_commands_and_formats_come_from_the_video_adapter(capsys):
    import m2p.cli.core as cli

    assert not {"grade", "recolor", "race"} & {e.name for e in cli.SUBCOMMANDS}
    assert "export" in {e.name for e in cli.SUBCOMMANDS}  # the core's, every format
    registered = plugins_mod.commands()
    assert [registered[n].plugin for n in ("grade", "recolor", "race")] == ["video"] * 3
    assert "export" not in registered
    formats = plugins_mod.registered("format")
    assert [formats[n].plugin for n in ("cube", "3dl", "haldclut")] == ["video"] * 3
    assert cli.main(["--help"]) == 0
    help_text = capsys.readouterr().out
    assert all(name in help_text for name in ("grade", "recolor", "export", "race"))
    info = next(i for i in plugins_mod.plugins() if i.name == "video")
    assert info.formats == ("cube", "3dl", "haldclut")
    assert cli.main(["plugins"]) == 0
    assert "format cube" in capsys.readouterr().out


def test_plugin_warnings_are_m2p_warnings():
    assert issubclass(PluginWarning, M2PWarning)


def test_command_of_a_left_out_adapter_is_refused_with_the_reason(monkeypatch, capsys):
    import m2p.cli.core as cli

    monkeypatch.setenv("M2P_LOAD_PLUGINS", "matplotlib")
    assert cli.main(["grade", "v.mp4", "--music", "s.wav", "-o", "o.mp4"]) == 1
    err = capsys.readouterr().err
    assert "'video' adapter" in err and "M2P_LOAD_PLUGINS" in err
    assert cli.main(["no-such-command"]) == 2  # unknown to every adapter: a usage error


def test_builtins_register_by_import_without_entry_point_metadata(monkeypatch):
    """A checkout on PYTHONPATH with no installed metadata: the built-ins still load."""
    import importlib.metadata as md

    real = md.entry_points
    seen = []

    def no_m2p_entry_points(**kwargs):
        seen.append(kwargs.get("group"))
        return [] if kwargs.get("group") == "m2p" else real(**kwargs)

    monkeypatch.setattr(md, "entry_points", no_m2p_entry_points)
    infos = {info.name: info for info in plugins_mod.plugins()}
    assert "m2p" in seen  # the loader did look, and found nothing
    assert all(infos[n].status == "loaded" for n in BUILTINS)
    assert infos["video"].module == "m2p_plugins.video"
    assert "grade" in plugins_mod.commands() and "style" in plugins_mod.available()
