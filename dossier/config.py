"""The study configuration (``dossier.toml``): one frozen settings object every command reads.

Command-line options override the file; an unknown key is an error that names the key, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

CONFIG_FILE_NAME = "dossier.toml"
CONF_TYPES = ("log-log", "log", "plain")
PATIENT_ID_CHOICES = ("pseudonymise", "keep", "omit")
"""How outputs show patient identifiers (``--patient-ids``): sequential codes (the default), the
registry's own ids, or none (see :mod:`dossier.registry.pseudonyms`)."""


class ConfigError(ValueError):
    """A dossier.toml that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    """Everything a dossier run needs that is not data: paths, criteria, endpoint parameters."""

    data: Path | None = None
    cohorts: Path | None = None
    adam: Path | None = None
    adam_map: Path | None = None
    criteria: tuple[str, ...] = ()
    out: Path = Path("output")
    title: str = "Precision-oncology cohort dossier"
    ci: str = "log-log"
    sd_weeks: float = 16.0
    durable_weeks: float = 24.0
    exceptional_pfs_months: float = 24.0
    pfs_ratio_threshold: float = 1.3
    by: tuple[str, ...] = ()
    patient_ids: str = PATIENT_ID_CHOICES[0]
    source: Path | None = None  # the dossier.toml this came from, if any

    def with_overrides(self, **options: Any) -> Settings:
        """Return a copy where every option that is not None replaces the file's value."""
        given = {k: v for k, v in options.items() if v is not None}
        unknown = sorted(set(given) - {f.name for f in fields(self)})
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return _checked(replace(self, **_coerce(given, self.source)), self.source)


# [section] -> key -> Settings field
_LAYOUT: dict[str, dict[str, str]] = {
    "study": {"title": "title", "data": "data", "cohorts": "cohorts", "adam": "adam",
              "adam_map": "adam_map", "out": "out", "patient_ids": "patient_ids"},
    "criteria": {"apply": "criteria"},
    "endpoints": {
        "ci": "ci",
        "sd_weeks": "sd_weeks",
        "durable_weeks": "durable_weeks",
        "exceptional_pfs_months": "exceptional_pfs_months",
        "pfs_ratio_threshold": "pfs_ratio_threshold",
        "by": "by",
    },
}
_PATH_FIELDS = {"data", "cohorts", "adam", "adam_map", "out"}
_TUPLE_FIELDS = {"criteria", "by"}
_NUMBER_FIELDS = {"sd_weeks", "durable_weeks", "exceptional_pfs_months", "pfs_ratio_threshold"}


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _coerce(values: dict[str, Any], base: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    root = base.parent if base is not None else None
    for key, value in values.items():
        if key in _PATH_FIELDS and not isinstance(value, Path):
            path = Path(str(value)).expanduser()
            out[key] = root / path if root is not None and not path.is_absolute() else path
        elif key in _TUPLE_FIELDS:
            items = [value] if isinstance(value, str) else list(value)
            out[key] = tuple(str(v).strip() for v in items if str(v).strip())
        elif key in _NUMBER_FIELDS:
            out[key] = float(value)
        else:
            out[key] = value
    return out


def _checked(settings: Settings, source: Path | None) -> Settings:
    where = f"{source}: " if source else ""
    if settings.ci not in CONF_TYPES:
        raise ConfigError(f"{where}ci must be one of {', '.join(CONF_TYPES)}, not {settings.ci!r}")
    if settings.patient_ids not in PATIENT_ID_CHOICES:
        raise ConfigError(f"{where}patient_ids must be one of {', '.join(PATIENT_ID_CHOICES)}, "
                          f"not {settings.patient_ids!r}")
    for name in ("sd_weeks", "durable_weeks", "exceptional_pfs_months", "pfs_ratio_threshold"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{where}{name} must be positive, not {getattr(settings, name)}")
    return settings


def parse_settings(text: str, source: Path | None = None) -> Settings:
    """Parse dossier.toml text; unknown sections or keys raise ConfigError naming them."""
    where = str(source) if source else CONFIG_FILE_NAME
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    values: dict[str, Any] = {}
    for section, body in raw.items():
        if section not in _LAYOUT:
            raise ConfigError(
                f"{where}: unknown section [{section}]{_suggest(section, list(_LAYOUT))}; "
                f"known sections: {', '.join(_LAYOUT)}"
            )
        if not isinstance(body, dict):
            raise ConfigError(f"{where}: {section} must be a [section] table")
        for key, value in body.items():
            if key not in _LAYOUT[section]:
                known = list(_LAYOUT[section])
                raise ConfigError(
                    f"{where}: unknown key {key!r} in [{section}]{_suggest(key, known)}; "
                    f"known keys: {', '.join(known)}"
                )
            values[_LAYOUT[section][key]] = value
    try:
        settings = Settings(source=source, **_coerce(values, source))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return _checked(settings, source)


def load_settings(path: Path | None = None, cwd: Path | None = None) -> Settings:
    """Read ``path``, or ``./dossier.toml`` when present, or return the defaults."""
    if path is None:
        candidate = (cwd or Path.cwd()) / CONFIG_FILE_NAME
        if not candidate.is_file():
            return Settings()
        path = candidate
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    return parse_settings(path.read_text(encoding="utf-8"), source=path.resolve())
