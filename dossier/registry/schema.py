"""The canonical registry data model: what a patient row and a cohort-metadata row may hold.

This module only *declares* the schema (pandera's split of declaration from execution);
``dossier.registry.validate`` checks data against it and ``docs/data-dictionary.md`` is generated
from it, so the documentation can never drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAYS_PER_MONTH = 30.4375
"""One month is 365.25 / 12 = 30.4375 days, everywhere in dossier (as in R survival reports)."""

DAYS_PER_WEEK = 7

RESPONSE_CODES = ("CR", "PR", "SD", "PD", "NE")
"""RECIST 1.1 best overall response categories accepted in patient rows."""

STAGES = ("1", "2", "expansion")
"""DRUP two-stage design: stage 1 (first 8 evaluable), stage 2 (to 24), expansion beyond."""

ESCAT_TIERS = ("I-A", "I-B", "I-C", "II-A", "II-B", "III-A", "III-B", "IV-A", "V", "X")
SETTINGS = ("palliative", "curative")
EMA_STATUSES = ("approved", "conditional", "not_approved")

MAX_PLAUSIBLE_DAYS = 20 * 365.25
"""Error: a time more than 20 years after treatment start is a data-entry error."""

FIRST_ASSESSMENT_WINDOW_DAYS = 84
"""Warning: a best response of PD with a PFS time longer than this many days (12 weeks: the
first tumour assessment at about 8 weeks plus a 4-week window). PD is the response at the first
assessment, so progression (or censoring) months later contradicts it."""

EARLIEST_PLAUSIBLE_YEAR = 1990
"""Warning: a date before this year predates targeted therapy registries (a typing slip?)."""

FUTURE_TOLERANCE_DAYS = 1
"""Error: a date (or treatment_start plus a time in days) more than this many days after the day
of the run lies in the future; one day of slack covers time zones."""

MIN_PLAUSIBLE_PRIOR_PFS_DAYS = 1.0
"""Warning: a prior-line PFS below one day (e.g. 1e-300) would make any PFS ratio a success."""

MAX_PLAUSIBLE_PRIOR_PFS_DAYS = 10 * 365.25
"""Warning: a prior-line PFS of more than 10 years."""

MAX_PLAUSIBLE_PRIOR_LINES = 10
"""Warning: more than 10 prior systemic treatment lines."""

ADULT_AGE, MAX_PLAUSIBLE_AGE = 18, 100
"""Warning: an age (years, at treatment start) below 18 or above 100 (DRUP treats adults)."""

MAX_PLAUSIBLE_ECOG = 2
"""Warning: an ECOG performance status above 2 (such patients are rarely eligible)."""

SEXES = ("F", "M")
"""Sex as recorded at baseline: F = female, M = male (CDISC SEX codes)."""

MAX_PLAUSIBLE_GROWTH_PCT = 500
"""Warning: target lesions growing by more than 500% (best change; a decimal or unit slip?)."""

COHORT_KEYS = ("drug", "tumour_type", "alteration")
"""The columns that define a DRUP cohort; surrounding and repeated inner spaces are removed, and
spellings that differ only in case are an error (they would split one cohort in two)."""

TRUE_WORDS = ("1", "true", "yes", "y", "t")
FALSE_WORDS = ("0", "false", "no", "n", "f")


@dataclass(frozen=True)
class Column:
    """One column of a dossier input table, as the data dictionary documents it."""

    name: str
    kind: str  # "string" | "integer" | "number" | "boolean" | "date" | "category" | "event"
    meaning: str
    required: bool = False
    unit: str = ""
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    aliases: tuple[str, ...] = field(default=())
    warn_below: float | None = None  # implausible (a warning), not impossible
    warn_above: float | None = None

    @property
    def allowed_text(self) -> str:
        """Allowed values as the data dictionary prints them."""
        if self.allowed:
            return ", ".join(self.allowed)
        if self.kind == "boolean":
            return "1/0 (also true/false, yes/no)"
        if self.kind == "event":
            return "1 = event, 0 = censored"
        if self.kind == "date":
            return "ISO date YYYY-MM-DD"
        bounds = []
        if self.minimum is not None:
            bounds.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            bounds.append(f"<= {self.maximum:g}")
        return ", ".join(bounds) or "any"


@dataclass(frozen=True)
class TimeField:
    """A time that may be given as a date or as days since treatment start (one of the two)."""

    stem: str
    meaning: str
    required: bool

    @property
    def date_column(self) -> str:
        return f"{self.stem}_date"

    @property
    def days_column(self) -> str:
        return f"{self.stem}_days"


PATIENT_COLUMNS: tuple[Column, ...] = (
    Column("patient_id", "string", "Pseudonymous patient identifier; unique in the file.",
           required=True, aliases=("subject_id", "usubjid", "subjid", "patient")),
    Column("cohort_id", "string",
           "Explicit cohort identifier. Default: '<drug> | <tumour_type> | <alteration>'.",
           aliases=("cohort",)),
    Column("drug", "string", "Study drug (or combination) given off-label.", required=True,
           aliases=("treatment",)),
    Column("tumour_type", "string", "Tumour type (histology / primary site).", required=True,
           aliases=("tumor_type", "tumour", "tumor", "histology")),
    Column("alteration", "string",
           "Targeted genomic alteration, gene and variant (e.g. 'BRAF p.V600E', 'MSI-high').",
           required=True, aliases=("biomarker", "molecular_profile")),
    Column("rare_cancer", "boolean",
           "Rare cancer (incidence < 6 per 100,000 per year, RARECARE).", required=True,
           aliases=("rare",)),
    Column("stage", "category", "Design stage the patient was enrolled in.", required=True,
           allowed=STAGES),
    Column("treatment_start", "date", "Date of the first dose (anchor of every time).",
           required=True, unit="date", aliases=("start_date", "trtsdt")),
    Column("response_evaluable", "boolean",
           "Evaluable for response (received treatment and had a response assessment).",
           required=True, aliases=("evaluable",)),
    Column("best_response", "category",
           "RECIST 1.1 best overall response; required when response_evaluable = 1.",
           allowed=RESPONSE_CODES, aliases=("bor", "best_overall_response")),
    Column("response_confirmed", "boolean",
           "CR/PR confirmed by a repeat assessment >= 4 weeks later; required for CR and PR.",
           aliases=("confirmed",)),
    Column("pfs_event", "event",
           "1 = progression or death (from any cause), 0 = censored at pfs_date/pfs_days.",
           required=True),
    Column("os_event", "event", "1 = death from any cause, 0 = alive at last contact.",
           required=True),
    Column("worst_ae_grade", "integer",
           "Worst treatment-related adverse event grade (CTCAE); blank if not recorded.",
           minimum=0, maximum=5, aliases=("ae_grade", "max_ae_grade")),
    Column("prior_lines", "integer", "Number of prior systemic treatment lines.", minimum=0,
           aliases=("prior_treatment_lines", "lines_prior"),
           warn_above=MAX_PLAUSIBLE_PRIOR_LINES),
    Column("prior_pfs_days", "number",
           "PFS on the previous treatment line, in days (for the PFS ratio); blank if unknown.",
           unit="days", minimum=0, warn_below=MIN_PLAUSIBLE_PRIOR_PFS_DAYS,
           warn_above=MAX_PLAUSIBLE_PRIOR_PFS_DAYS),
    Column("age", "number", "Age at treatment start, in whole years.", unit="years", minimum=0,
           maximum=120, aliases=("age_years",), warn_below=ADULT_AGE,
           warn_above=MAX_PLAUSIBLE_AGE),
    Column("sex", "category", "Sex: F = female, M = male.", allowed=SEXES,
           aliases=("gender",)),
    Column("ecog", "integer", "ECOG performance status at baseline (0 = fully active).",
           minimum=0, maximum=4, aliases=("ecog_ps", "performance_status", "ecogbl"),
           warn_above=MAX_PLAUSIBLE_ECOG),
    Column("tumour_subtype", "string", "Tumour subtype (histological or molecular subtype).",
           aliases=("tumor_subtype", "subtype")),
    Column("diagnosis_date", "date",
           "Date of diagnosis of the cancer treated; on or before treatment_start.",
           unit="date", aliases=("date_of_diagnosis", "diagnosis")),
    Column("best_pct_change", "number",
           "Best (most negative) percentage change from baseline in the sum of target-lesion "
           "diameters (RECIST 1.1); -100 = all target lesions gone.", unit="%", minimum=-100,
           aliases=("best_percent_change", "target_lesion_change"),
           warn_above=MAX_PLAUSIBLE_GROWTH_PCT),
)

AE_COLUMNS: tuple[Column, ...] = (
    Column("patient_id", "string", "Patient identifier, as in the patient file.", required=True,
           aliases=("subject_id", "usubjid", "subjid", "patient")),
    Column("soc", "string", "MedDRA system organ class (e.g. 'Gastrointestinal disorders').",
           required=True, aliases=("aesoc", "system_organ_class", "aebodsys")),
    Column("pt", "string", "MedDRA preferred term (e.g. 'Diarrhoea').", required=True,
           aliases=("aedecod", "preferred_term", "term")),
    Column("grade", "integer",
           "CTCAE grade of the event, 1-5; blank if not graded (counted under any grade only).",
           minimum=1, maximum=5, aliases=("aetoxgr", "atoxgr", "atoxgrn", "ctcae_grade")),
    Column("serious", "boolean", "Serious adverse event (ICH E2A).", aliases=("aeser",)),
    Column("related", "boolean", "Related to the study drug (treatment-related).",
           aliases=("treatment_related", "aerel_flag")),
    Column("discontinued", "boolean", "The event led to permanent discontinuation of the drug.",
           aliases=("led_to_discontinuation", "discontinuation")),
    Column("onset_date", "date", "Date the event began; on or after treatment_start.",
           unit="date", aliases=("aestdtc", "astdt", "onset")),
)
"""Columns of the adverse-event file (docs/data-dictionary.md lists them)."""

TIME_FIELDS: tuple[TimeField, ...] = (
    TimeField("response", "First documented CR or PR (for duration of response).", False),
    TimeField("pfs", "Progression, death or censoring for progression-free survival.", True),
    TimeField("os", "Death or last contact for overall survival.", True),
)

COHORT_COLUMNS: tuple[Column, ...] = (
    Column("cohort_id", "string", "Cohort identifier, as in the patient file.", required=True),
    Column("title", "string", "Readable cohort name for reports."),
    Column("population", "string", "PICO population in words (default: tumour, alteration)."),
    Column("dose", "string", "PICO intervention: dose and schedule of the drug, as given."),
    Column("comparator", "string", "PICO comparator in words (default: comparators file, none)."),
    Column("escat_tier", "category", "ESCAT actionability tier of the target in this tumour.",
           allowed=ESCAT_TIERS),
    Column("setting", "category", "Treatment intent; default palliative.", allowed=SETTINGS),
    Column("ema_status", "category",
           "EMA marketing authorisation of the drug for this indication.", allowed=EMA_STATUSES),
    Column("rare_indication", "boolean", "The indication is rare (orphan / rare cancer)."),
    Column("no_effective_treatment", "boolean",
           "High unmet need: no effective standard treatment is available."),
    Column("form3_justification", "string",
           "Why ESMO-MCBS Form 3 applies although the cohort is neither rare nor without "
           "effective standard treatment (shown with the verdict); blank: the gate decides."),
    Column("line_of_therapy", "integer",
           "Line of therapy of the cohort (1 = first line) for the comparators file; blank: "
           "the median of the patients' prior_lines + 1.", minimum=1),
    Column("qol_improved", "boolean",
           "Quality-of-life evidence shows improvement (ESMO-MCBS +1 adjustment)."),
    Column("phase4_confirmatory", "boolean",
           "Confirmatory, adequately sized phase-4 experience exists (ESMO-MCBS Form 3 +1)."),
    Column("g34_tox_wellbeing_rate", "number",
           "Share of patients with grade 3-4 toxicity impacting daily well-being (ESMO-MCBS).",
           unit="fraction 0-1", minimum=0, maximum=1),
    Column("control_os_median_months", "number", "Comparator median OS.", unit="months",
           minimum=0),
    Column("control_pfs_median_months", "number", "Comparator median PFS.", unit="months",
           minimum=0),
    Column("hr_os", "number", "Hazard ratio for OS versus the comparator.", minimum=0),
    Column("hr_os_lower95", "number", "Lower 95% limit of hr_os.", minimum=0),
    Column("hr_os_upper95", "number", "Upper 95% limit of hr_os.", minimum=0),
    Column("hr_pfs", "number", "Hazard ratio for PFS versus the comparator.", minimum=0),
    Column("hr_pfs_lower95", "number", "Lower 95% limit of hr_pfs.", minimum=0),
    Column("hr_pfs_upper95", "number", "Upper 95% limit of hr_pfs.", minimum=0),
    Column("os_landmark_gain_2y", "number",
           "Gain in 2-year OS versus the comparator.", unit="percentage points"),
    Column("os_landmark_gain_3y", "number",
           "Gain in 3-year OS versus the comparator.", unit="percentage points"),
)


def default_cohort_id(drug: str, tumour_type: str, alteration: str) -> str:
    """The DRUP cohort key: one drug x one tumour type x one alteration."""
    return f"{drug} | {tumour_type} | {alteration}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def plausibility_markdown() -> list[str]:
    """The plausibility bounds section of the data dictionary, from the constants above."""
    lines = [
        "### Plausibility bounds",
        "",
        "Impossible values are errors (the registry is not analysed); implausible ones are",
        "warnings (analysed, but listed for a data manager to check).",
        "",
        "Errors:",
        "",
        "- a negative time or duration (`*_days`, `prior_pfs_days`), a date before",
        "  `treatment_start`, PFS longer than OS, a response after progression, a",
        "  `diagnosis_date` after `treatment_start`;",
        f"- a time more than {MAX_PLAUSIBLE_DAYS / 365.25:g} years "
        f"({MAX_PLAUSIBLE_DAYS:,.0f} days) after `treatment_start`;",
        f"- a date in the future: more than {FUTURE_TOLERANCE_DAYS} day after the day of the run, "
        "whether written as a",
        "  date or as `treatment_start` plus days (so no date can move the data cut-off or the",
        "  build date into the future);",
        "- dates outside the years 1900-2199 (typing errors such as 0202-05-03);",
        "- keys " + ", ".join(f"`{k}`" for k in COHORT_KEYS) + " (and `cohort_id`) "
        "that differ only in case",
        "  between rows (`Erlotinib` and `erlotinib`); surrounding and repeated inner spaces are",
        "  removed first, so `'Erlotinib '` and `'Erlotinib'` are one cohort.",
        "",
        "Warnings:",
        "",
    ]
    for col in PATIENT_COLUMNS:
        unit = f" {col.unit}" if col.unit else ""
        if col.warn_below is not None:
            lines.append(f"- `{col.name}` below {col.warn_below:g}{unit};")
        if col.warn_above is not None:
            lines.append(f"- `{col.name}` above {col.warn_above:g}{unit};")
    lines += [
        f"- a date before {EARLIEST_PLAUSIBLE_YEAR};",
        "- best response PD with a PFS time longer than the first assessment window, "
        f"{FIRST_ASSESSMENT_WINDOW_DAYS} days",
        f"  ({FIRST_ASSESSMENT_WINDOW_DAYS // DAYS_PER_WEEK} weeks: the first tumour assessment "
        "at about 8 weeks plus a 4-week window).",
        "",
    ]
    return lines


def data_dictionary_markdown() -> str:
    """Render the data dictionary (docs/data-dictionary.md) from the declarations above."""
    header = ["name", "type", "unit", "allowed values", "required", "meaning"]
    lines = [
        "# Data dictionary",
        "",
        "Generated from `dossier/registry/schema.py` (`python -m dossier.registry.schema`); a test",
        "fails when this file and the code disagree. Column names are matched case-insensitively;",
        "the aliases listed are accepted too. One month is 30.4375 days (365.25 / 12) wherever",
        "months appear.",
        "",
        "## Patient file (one row per treated patient)",
        "",
        "CSV, Excel (.xlsx) or Parquet. A workbook's sheet is the one named by `--sheet` (or",
        "`sheet` in dossier.toml's `[study]`), else its only sheet, else the only sheet whose",
        "first row carries `patient_id` and two more patient columns. Formula cells are read",
        "from the value the spreadsheet program saved; a formula without one is an error.",
        "",
        _row(header),
        _row(["---"] * len(header)),
    ]
    for col in PATIENT_COLUMNS:
        meaning = col.meaning + (f" Aliases: {', '.join(col.aliases)}." if col.aliases else "")
        lines.append(_row([f"`{col.name}`", col.kind, col.unit or "-", col.allowed_text,
                           "required" if col.required else "optional", meaning]))
    for tf in TIME_FIELDS:
        need = "one of the pair required" if tf.required else "optional (one of the pair)"
        lines.append(_row([f"`{tf.date_column}`", "date", "date", "ISO date YYYY-MM-DD", need,
                           f"{tf.meaning} As a date."]))
        lines.append(_row([f"`{tf.days_column}`", "number", "days", ">= 0", need,
                           f"{tf.meaning} As days since treatment_start."]))
    lines += [
        "",
        "### Times: dates or days",
        "",
        "Each time (`response`, `pfs`, `os`) may be given as a date (`<name>_date`) or as days",
        "since `treatment_start` (`<name>_days`). A date becomes days as",
        "`date - treatment_start` (so a progression on the start date is day 0). When a row has",
        "both, they must agree. Stable disease lasts from treatment start to progression or",
        "censoring, so its duration is the PFS time of a patient whose best response is SD.",
        "",
        *plausibility_markdown(),
        "## Cohort metadata file (one row per cohort; optional)",
        "",
        "YAML (a list of mappings, or a mapping `cohorts:` of such) or CSV. It carries what",
        "patient rows cannot: evidence on quality of life, regulatory status and comparators.",
        "",
        _row(header),
        _row(["---"] * len(header)),
    ]
    for col in COHORT_COLUMNS:
        lines.append(_row([f"`{col.name}`", col.kind, col.unit or "-", col.allowed_text,
                           "required" if col.required else "optional", col.meaning]))
    lines += [
        "",
        "## Adverse-event file (one row per adverse event; optional)",
        "",
        "CSV, Excel or Parquet, given with `--adverse-events FILE` (or `adverse_events` in",
        "dossier.toml's `[study]`), or found beside the patient file as",
        "`<stem>.adverse_events.csv` (`.xlsx`, `.parquet`). Every `patient_id` must be a patient",
        "of the patient file; an onset before treatment start is a warning.",
        "",
        _row(header),
        _row(["---"] * len(header)),
    ]
    for col in AE_COLUMNS:
        meaning = col.meaning + (f" Aliases: {', '.join(col.aliases)}." if col.aliases else "")
        lines.append(_row([f"`{col.name}`", col.kind, col.unit or "-", col.allowed_text,
                           "required" if col.required else "optional", meaning]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - regenerates the docs file
    print(data_dictionary_markdown(), end="")
