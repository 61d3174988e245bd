"""The study configuration (``dossier.toml``): one frozen settings object every command reads.

Command-line options override the file; an unknown key is an error that names the key, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dossier.endpoints.parameters import CI_TYPES, EndpointParameters
from dossier.errors import ConfigurationError
from dossier.render.pdf_variant import check_variant
from dossier.suggest import did_you_mean

CONFIG_FILE_NAME = "dossier.toml"
CONF_TYPES = CI_TYPES
PARAMETER_NAMES = EndpointParameters.names()
"""Keys of [endpoints] (besides ``by``) and options that set an endpoint parameter."""
PATIENT_ID_CHOICES = ("pseudonymise", "keep", "omit")
"""How outputs show patient identifiers (``--patient-ids``): sequential codes (the default), the
registry's own ids, or none (see :mod:`dossier.registry.pseudonyms`)."""


class ConfigError(ConfigurationError, ValueError):
    """A dossier.toml entry or option that cannot be used; the message names the file and key.

    Also a ValueError, as the API raised before dossier had its own error classes.
    """


@dataclass(frozen=True)
class Settings:
    """Everything a dossier run needs that is not data: paths, criteria, endpoint parameters."""

    data: Path | None = None
    cohorts: Path | None = None
    adam: Path | None = None
    adam_map: Path | None = None
    comparators: Path | None = None
    """External controls per tumour type and line (docs/comparators.md); the demo uses the
    bundled example file."""
    adverse_events: Path | None = None  # one row per adverse event (CSV, XLSX, Parquet)
    sheet: str | None = None  # the workbook sheet holding the patients (.xlsx data)
    criteria: tuple[str, ...] = ()
    out: Path = Path("output")
    title: str = "Precision-oncology cohort dossier"
    endpoints: EndpointParameters = field(default_factory=EndpointParameters)
    """The endpoint parameters ([endpoints] of dossier.toml): their one home."""
    by: tuple[str, ...] = ()
    patient_ids: str = PATIENT_ID_CHOICES[0]
    grade_closed_cohorts: bool = False
    """Grade (ESMO, PASKWIL) cohorts DRUP closed at stage 1 too ([criteria] grade_closed_cohorts,
    ``--grade-closed-cohorts``); by default they get "insufficient evidence"."""
    km_full_followup: bool = False
    """Kaplan-Meier plots over the whole follow-up ([figures] km_full_followup)."""
    pdf_variant: str | None = None
    """A PDF/A variant of the PDFs, e.g. "pdf/a-2b" ([pdf] variant, ``--pdf-variant``)."""
    source: Path | None = None  # the dossier.toml this came from, if any

    def __getattr__(self, name: str) -> Any:
        """``settings.sd_weeks`` and the like read the endpoint parameters."""
        if name in PARAMETER_NAMES:
            return getattr(self.endpoints, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def with_overrides(self, **options: Any) -> Settings:
        """Return a copy where every option that is not None replaces the file's value."""
        given = {k: v for k, v in options.items() if v is not None}
        unknown = sorted(set(given) - {f.name for f in fields(self)} - set(PARAMETER_NAMES))
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return _settings(self, _coerce(given, self.source), self.source)


# [section] -> key -> Settings field
_LAYOUT: dict[str, dict[str, str]] = {
    "study": {"title": "title", "data": "data", "cohorts": "cohorts", "adam": "adam",
              "adam_map": "adam_map", "out": "out", "sheet": "sheet",
              "comparators": "comparators",
              "patient_ids": "patient_ids", "adverse_events": "adverse_events"},
    "criteria": {"apply": "criteria", "grade_closed_cohorts": "grade_closed_cohorts"},
    "endpoints": {**{name: name for name in PARAMETER_NAMES}, "by": "by"},
    "figures": {"km_full_followup": "km_full_followup"},
    "pdf": {"variant": "pdf_variant"},
}
_PATH_FIELDS = {"data", "cohorts", "adam", "adam_map", "adverse_events", "out", "comparators"}
_TUPLE_FIELDS = {"criteria", "by"}


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
        elif key == "landmarks_months":
            items = [value] if isinstance(value, int | float) else list(value)
            out[key] = tuple(float(v) for v in items)
        elif key == "sheet":
            out[key] = str(value)
        else:
            out[key] = value
    return out


def _settings(base: Settings, values: dict[str, Any], source: Path | None) -> Settings:
    """``base`` with ``values`` set; endpoint parameters go to (and are checked by) its
    EndpointParameters, so a bad value is a ConfigError naming the file and the key."""
    where = f"{source}: " if source else ""
    parameters = {k: v for k, v in values.items() if k in PARAMETER_NAMES}
    rest = {k: v for k, v in values.items() if k not in PARAMETER_NAMES}
    try:
        endpoints = replace(base.endpoints, **parameters) if parameters else base.endpoints
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}{exc}") from exc
    if not isinstance(rest.get("grade_closed_cohorts", False), bool):
        raise ConfigError(f"{where}grade_closed_cohorts must be true or false, not "
                          f"{rest['grade_closed_cohorts']!r}")
    settings = replace(base, endpoints=endpoints, **rest)
    if not isinstance(settings.km_full_followup, bool):
        raise ConfigError(f"{where}km_full_followup must be true or false, not "
                          f"{settings.km_full_followup!r}")
    try:
        settings = replace(settings, pdf_variant=check_variant(settings.pdf_variant))
    except ValueError as exc:
        raise ConfigError(f"{where}{exc}") from exc
    if settings.patient_ids not in PATIENT_ID_CHOICES:
        raise ConfigError(f"{where}patient_ids must be one of {', '.join(PATIENT_ID_CHOICES)}, "
                          f"not {settings.patient_ids!r}")
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
                f"{where}: unknown section [{section}]{did_you_mean(section, list(_LAYOUT))}; "
                f"known sections: {', '.join(_LAYOUT)}"
            )
        if not isinstance(body, dict):
            raise ConfigError(f"{where}: {section} must be a [section] table")
        for key, value in body.items():
            if key not in _LAYOUT[section]:
                known = list(_LAYOUT[section])
                raise ConfigError(
                    f"{where}: unknown key {key!r} in [{section}]{did_you_mean(key, known)}; "
                    f"known keys: {', '.join(known)}"
                )
            values[_LAYOUT[section][key]] = value
    try:
        coerced = _coerce(values, source)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return _settings(Settings(source=source), coerced, source)


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
