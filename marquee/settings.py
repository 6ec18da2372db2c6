"""User settings: a declarative schema, validation and a human-readable TOML file.

Pure: no Qt, no network. The app's settings dialog, the engine (quality cap,
languages, QA overrides) and the CLI all read settings through this module.
Invalid values are reported as :class:`marquee.errors.ConfigError` with a
message a person understands; a damaged or hand-edited file never crashes the
app: bad entries fall back to their defaults and are reported as warnings.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlparse

from marquee import paths
from marquee.errors import ConfigError

FILE_NAME = "settings.toml"

Value = str | int | float | bool
Validator = Callable[[Any], Any]  # returns the normalised value or raises ConfigError


@dataclass(frozen=True)
class Setting:
    key: str  # "section.name"
    kind: type  # str, int, float or bool
    default: Value
    label: str
    description: str
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    check: Validator | None = None

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]


_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def _language(value: str) -> str:
    value = value.strip()
    if value and not _LANG.match(value):
        raise ConfigError(
            f"bad language code {value!r}",
            user_message=f"“{value}” is not a language code (use two or three letters, e.g. en, fr, pt-BR).",
        )
    return value


def _language_required(value: str) -> str:
    value = _language(value)
    if not value:
        raise ConfigError("empty language", user_message="Choose a preferred audio language (e.g. en).")
    return value


def _service_url(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"bad service URL {value!r}",
            user_message="The service URL must start with http:// or https:// and name a host "
            "(leave it empty to use the built-in demo service).",
        )
    return value.rstrip("/")


def _path(value: str, what: str) -> Path:
    """``~`` expanded; an unusable path (unknown user, NUL byte) is a ConfigError, not a crash."""
    try:
        path = Path(value).expanduser()
        path.exists()
    except (RuntimeError, ValueError, OSError) as exc:
        raise ConfigError(f"bad path {value!r}: {exc}", user_message=f"“{value}” is not a usable {what}.") from None
    return path


def _directory(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    path = _path(value, "folder")
    if not path.is_absolute():
        raise ConfigError(
            f"relative path {value!r}", user_message="The download location must be a full path (or empty for the default)."
        )
    if path.exists() and not path.is_dir():
        raise ConfigError(f"not a directory: {value}", user_message=f"{value} exists and is not a folder.")
    return str(path)


def throttle_presets() -> tuple[str, ...]:
    """The throttle presets the player knows (``abr.traces.PRESETS``), "" meaning off."""
    try:
        from abr.traces import PRESETS  # noqa: PLC0415 - numpy: only when asked
    except ImportError:
        return ("",)
    return ("", *PRESETS)


def _throttle(value: str) -> str:
    """Off (""), a preset, a constant rate (``2mbit``) or a trace file, exactly as the
    player's ``player.shaping.resolve_throttle`` accepts it (so a saved value always plays)."""
    value = value.strip()
    if not value:
        return ""
    try:
        from player.shaping import resolve_throttle  # noqa: PLC0415
    except ImportError:  # pragma: no cover - the player is part of the distribution
        return value
    try:
        resolve_throttle(value)
    except ConfigError:
        presets = ", ".join(p for p in throttle_presets() if p)
        raise ConfigError(
            f"unknown throttle {value!r}",
            user_message=f"“{value}” is neither a throttle preset ({presets}), a rate such as 2mbit, "
            "nor a readable trace file.",
        ) from None
    except (OSError, ValueError, RuntimeError) as exc:  # unknown ~user, NUL byte, unreadable file
        raise ConfigError(f"bad throttle {value!r}: {exc}",
                          user_message=f"“{value}” is not a usable throttle preset, rate or trace file.") from None
    return value


def parse_params(text: str) -> dict[str, str]:
    """``"a=1, b=0.5"`` -> ``{"a": "1", "b": "0.5"}``; raises ConfigError on malformed text."""
    out: dict[str, str] = {}
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, val = part.partition("=")
        name, val = name.strip(), val.strip()
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) or not val:
            raise ConfigError(
                f"bad ABR parameter {part!r}", user_message=f"“{part}” is not a parameter: write name=value, separated by commas."
            )
        out[name] = val
    return out


def _abr_params(value: str) -> str:
    params = parse_params(value)
    return ", ".join(f"{k}={v}" for k, v in params.items())


SCHEMA: tuple[Setting, ...] = (
    Setting("playback.quality_cap", str, "auto", "Streaming quality",
            "Highest quality to stream. Data saver stays at or below 480p; Auto adapts to your connection.",
            choices=("auto", "data_saver", "hd", "max"),
            choice_labels=("Auto", "Data saver (≤ 480p)", "HD (≤ 720p)", "Maximum (1080p)")),
    Setting("playback.audio_language", str, "en", "Audio language",
            "Preferred audio language (two or three letter code).", check=_language_required),
    Setting("playback.subtitle_language", str, "", "Subtitles",
            "Preferred subtitle language; empty turns subtitles off.", check=_language),
    Setting("playback.autoplay_next", bool, True, "Autoplay next episode",
            "Start the next episode after a short countdown."),
    Setting("playback.volume", int, 100, "Volume", "Initial volume (0-100).", minimum=0, maximum=100),
    Setting("downloads.location", str, "", "Download location",
            "Folder for offline downloads; empty uses the app's data folder.", check=_directory),
    Setting("downloads.quality", str, "standard", "Download quality",
            "Quality of offline downloads (higher uses more disk).",
            choices=("standard", "high", "max"), choice_labels=("Standard (480p)", "High (720p)", "Maximum (1080p)")),
    Setting("privacy.telemetry", bool, True, "Send playback telemetry",
            "Share anonymous playback quality measurements with the service."),
    Setting("service.url", str, "", "Service URL",
            "Address of the Marquee service; empty starts the built-in demo service.", check=_service_url),
    Setting("qa.throttle", str, "", "Throttle",
            "Shape the player's own downloads: a preset (3g, lte, cable, satellite, wifi-lossy), a rate "
            "such as 2mbit, or a trace file. "
            "Applies to the next playback.", check=_throttle),
    Setting("qa.abr_algorithm", str, "default", "ABR algorithm",
            "Adaptive bitrate algorithm for the next playback.", check=None),
    Setting("qa.abr_params", str, "", "ABR parameters",
            "Parameters for the ABR algorithm, e.g. safety=0.8, window=5.", check=_abr_params),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SCHEMA}


def _coerce(setting: Setting, raw: Any) -> Any:
    kind = setting.kind
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
            return raw.strip().lower() in ("true", "yes", "on", "1")
        raise ConfigError(f"{setting.key}: not a boolean: {raw!r}", user_message=f"{setting.label}: choose on or off.")
    if kind is int:
        if isinstance(raw, bool):
            raise ConfigError(f"{setting.key}: not a number", user_message=f"{setting.label}: enter a whole number.")
        try:
            value = int(str(raw).strip()) if not isinstance(raw, int) else raw
        except ValueError:
            raise ConfigError(f"{setting.key}: not an integer: {raw!r}",
                              user_message=f"{setting.label}: “{raw}” is not a whole number.") from None
        return value
    if kind is float:
        try:
            value_f = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{setting.key}: not a number: {raw!r}",
                              user_message=f"{setting.label}: “{raw}” is not a number.") from None
        if not math.isfinite(value_f):
            raise ConfigError(f"{setting.key}: not finite", user_message=f"{setting.label}: enter a finite number.")
        return value_f
    if not isinstance(raw, str):
        raise ConfigError(f"{setting.key}: not text: {raw!r}", user_message=f"{setting.label}: expected text.")
    return raw


@dataclass
class AbrCatalog:
    """What the ABR package offers; injected so this module stays free of ``abr``."""

    names: tuple[str, ...] = ("default",)
    check_params: Callable[[str, dict[str, str]], None] | None = None  # raises ConfigError
    describe: Callable[[str], tuple[str, tuple[tuple[str, str, str], ...]]] | None = None
    # name -> (summary, ((param, default, doc), ...)), for the settings dialog


def default_abr_catalog() -> AbrCatalog:
    """The ABR algorithms of the ``abr`` package, when it provides ``algorithms``/``make_controller``."""
    try:
        import abr  # noqa: PLC0415 - optional at runtime

        names = tuple(abr.algorithms())
        make = abr.make_controller
    except (ImportError, AttributeError):
        return AbrCatalog()

    def check(name: str, params: dict[str, str]) -> None:
        make(name, params)

    def describe(name: str) -> tuple[str, tuple[tuple[str, str, str], ...]]:
        info = abr.algorithm_info(name)
        return str(info.summary), tuple((str(p.name), str(p.default), str(p.doc)) for p in info.params)

    return AbrCatalog(names=tuple(dict.fromkeys(("default", *names))), check_params=check, describe=describe)


def validate(key: str, raw: Any, abr_catalog: AbrCatalog | None = None) -> Any:
    """Return the normalised value for ``key`` or raise ConfigError with a user message."""
    setting = BY_KEY.get(key)
    if setting is None:
        raise ConfigError(f"unknown setting {key!r}", user_message=f"There is no setting called {key}.")
    value = _coerce(setting, raw)
    if setting.choices and value not in setting.choices:
        labels = ", ".join(setting.choices)
        raise ConfigError(f"{key}: {value!r} not in {setting.choices}",
                          user_message=f"{setting.label}: “{value}” is not one of {labels}.")
    if setting.minimum is not None and value < setting.minimum or setting.maximum is not None and value > setting.maximum:
        raise ConfigError(f"{key}: {value} out of range",
                          user_message=f"{setting.label}: must be between {setting.minimum:g} and {setting.maximum:g}.")
    if setting.check is not None:
        value = setting.check(value)
    if key == "qa.abr_algorithm":
        catalog = abr_catalog or AbrCatalog()
        value = value.strip() or "default"
        if value not in catalog.names:
            raise ConfigError(f"unknown ABR algorithm {value!r}",
                              user_message=f"ABR algorithm “{value}” is not one of {', '.join(catalog.names)}.")
    return value


@dataclass(frozen=True)
class Settings:
    """An immutable, validated set of values (every schema key present)."""

    values: Mapping[str, Any] = field(default_factory=lambda: {s.key: s.default for s in SCHEMA})

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def replace(self, changes: Mapping[str, Any], abr_catalog: AbrCatalog | None = None) -> "Settings":
        """Validate every change (all or nothing) and return the new settings.

        Raises ConfigError naming every invalid entry (``errors`` attribute: key -> message).
        """
        new = dict(self.values)
        errors: dict[str, str] = {}
        for key, raw in changes.items():
            try:
                new[key] = validate(key, raw, abr_catalog)
            except ConfigError as exc:
                errors[key] = exc.user_message
        if not errors:
            try:
                check_abr_params(new, abr_catalog)
            except ConfigError as exc:
                errors["qa.abr_params"] = exc.user_message
        if errors:
            err = ConfigError("invalid settings: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                              user_message="\n".join(errors.values()))
            err.errors = errors  # type: ignore[attr-defined]
            raise err
        return Settings(new)

    def abr_params(self) -> dict[str, str]:
        return parse_params(self.values["qa.abr_params"])


def check_abr_params(values: Mapping[str, Any], abr_catalog: AbrCatalog | None) -> None:
    if abr_catalog is None or abr_catalog.check_params is None:
        return
    name = values["qa.abr_algorithm"]
    params = parse_params(values["qa.abr_params"])
    try:
        abr_catalog.check_params(name, params)
    except ConfigError:
        raise
    except Exception as exc:  # the ABR package promises ConfigError; anything else is still a bad value
        raise ConfigError(str(exc), user_message=f"ABR parameters rejected: {exc}") from exc


def defaults() -> Settings:
    return Settings()


def settings_path() -> Path:
    return paths.config_dir() / FILE_NAME


def parse(text: str, abr_catalog: AbrCatalog | None = None) -> tuple[Settings, list[str]]:
    """Parse TOML text. Returns the settings and warnings for entries that were ignored."""
    warnings: list[str] = []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return defaults(), [f"settings file is not valid TOML ({exc}); using defaults"]
    values = dict(defaults().values)
    for section, table in data.items():
        if not isinstance(table, dict):
            warnings.append(f"ignored top-level value {section!r}")
            continue
        for name, raw in table.items():
            key = f"{section}.{name}"
            try:
                values[key] = validate(key, raw, abr_catalog)
            except ConfigError as exc:
                warnings.append(f"{key}: {exc.user_message} (using the default)")
    try:
        check_abr_params(values, abr_catalog)
    except ConfigError as exc:
        warnings.append(f"qa.abr_params: {exc.user_message} (using the default)")
        values["qa.abr_params"] = BY_KEY["qa.abr_params"].default
    return Settings(values), warnings


def load(path: Path | None = None, abr_catalog: AbrCatalog | None = None) -> tuple[Settings, list[str]]:
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return defaults(), []
    except OSError as exc:
        return defaults(), [f"cannot read {path}: {exc}; using defaults"]
    return parse(text, abr_catalog)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    escaped = "".join(c if ord(c) >= 0x20 and ord(c) != 0x7F else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def to_toml(settings: Settings, schema: Iterable[Setting] = SCHEMA) -> str:
    """A commented TOML document: every setting with its description and default."""
    lines = ["# Marquee settings. Edit while the app is closed, or use Settings in the app.", ""]
    section = None
    for s in schema:
        if s.section != section:
            if section is not None:
                lines.append("")
            section = s.section
            lines.append(f"[{section}]")
        lines.append(f"# {s.description}")
        if s.choices:
            lines.append(f"# one of: {', '.join(s.choices)}")
        lines.append(f"# default: {_toml_value(s.default)}")
        lines.append(f"{s.name} = {_toml_value(settings[s.key])}")
    return "\n".join(lines) + "\n"


def save(settings: Settings, path: Path | None = None) -> Path:
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(to_toml(settings), encoding="utf-8")
    tmp.replace(path)
    return path
