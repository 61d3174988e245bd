"""ADaM ADRS to dossier's response columns: one best overall response per treated subject.

The source is the sponsor's best-response parameters (``BOR`` unconfirmed, ``CBOR`` confirmed)
or, when ADRS has only the visit responses (``OVR``), the RECIST 1.1 derivation of
``dossier.registry.adam_bor``. ``best_response`` is the confirmed category when it is CR/PR
(``response_confirmed`` = 1), else the unconfirmed one (a CR/PR then has
``response_confirmed`` = 0, which dossier's endpoints count as SD); NON-CR/NON-PD counts as SD.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from dossier.registry.adam_bor import (
    BEST_RESPONSES,
    VISIT_RESPONSES,
    DerivedResponse,
    Visit,
    derive_best_response,
    normalise_response,
)
from dossier.registry.adam_subjects import (
    Origin,
    Subject,
    SubjectMapper,
    Time,
    origin_of,
    subject_ids,
)
from dossier.registry.readers import parse_text, show_value
from dossier.registry.validate import Issue

RESPONSE_CODE = {"CR": "CR", "PR": "PR", "SD": "SD", "NON-CR/NON-PD": "SD", "PD": "PD", "NE": "NE"}
"""ADaM best response -> dossier best_response (NON-CR/NON-PD counts as SD: disease control)."""


@dataclass(frozen=True)
class _Sponsor:
    """A subject's sponsor-derived BOR or CBOR record: the category and its row."""

    category: str
    row: int


class ResponseMapper:
    """Sets response_evaluable, best_response, response_confirmed and response_days.

    The source is the sponsor's BOR/CBOR parameters, or the RECIST derivation from the visit
    responses when ADRS has only those (``adrs.source: auto``), as ``adrs.source`` says.
    """

    def __init__(self, mapper: SubjectMapper) -> None:
        self.mp, self.m = mapper, mapper.m
        self.ds = mapper.data.get("adrs")
        self.date_var = self.ds.first("ADT", "ADTM") if self.ds is not None else None

    def run(self, pfs: dict[str, Time]) -> None:
        ds, m, mp = self.ds, self.m, self.mp
        if ds is None:
            text = "no ADRS dataset: no patient is response-evaluable"
            mp.issues.append(Issue("warning", "no_adrs", text + "; response rates cannot be "
                                   "computed", mp.data["adsl"].name))
            mp.decide("response", text)
            for s in mp.treated():
                s.set("response_evaluable", False, Origin("", None, None, None, "no ADRS"))
            return
        if not ds.require(m.subject, "PARAMCD", "AVALC"):
            mp.failed_columns.update({"response_evaluable", "best_response"})
            return
        sponsor, visits = self._records()
        use = m.source if m.source != "auto" else ("sponsor" if sponsor else "visits")
        if use == "sponsor" and not sponsor:
            ds.log.error("no_parameter", f"adrs.source is sponsor but ADRS has no records with "
                         f"PARAMCD {m.bor} or {m.cbor}", None, "PARAMCD")
        if use == "visits" and not visits:
            ds.log.warning("no_parameter", f"ADRS has no {m.bor}, {m.cbor} or visit ({m.visits}) "
                           "records: no patient is response-evaluable", None, "PARAMCD")
        mp.decide("response", self._source_text(use, len(sponsor), len(visits)), ds.name,
                  "PARAMCD")
        for s in mp.treated():
            self._subject(s, use, sponsor.get(s.pid, {}), visits.get(s.pid, []), pfs.get(s.pid))
        self._evaluable_text()
        if m.response_date == "none":
            mp.decide("response", "response dates are not mapped (adrs.response_date: none): "
                      "duration of response is not computed", ds.name)
        elif mp.dor:
            mp.decide("response", f"response_days = PFS AVAL - AVAL of PARAMCD {m.dor} (so "
                      "duration of response equals the sponsor's); without a record, as below",
                      mp.data["adtte"].name, "AVAL")
        if m.response_date != "none":
            mp.decide("response", "response_days of a CR/PR without a duration-of-response "
                      "record = PFS AVAL - (PFS ADT - date of the first CR/PR visit, or of the "
                      "best-response record): the response on PFS's own time scale, so duration "
                      "of response = PFS date - response date (without a PFS ADT: response date "
                      "- treatment start)", ds.name, self.date_var)

    def _records(self) -> tuple[dict[str, dict[str, _Sponsor]], dict[str, list[Visit]]]:
        """The sponsor's BOR/CBOR records and the visit responses, by subject."""
        ds, m, mp = self.ds, self.m, self.mp
        assert ds is not None
        ids, codes = subject_ids(ds, m.subject), ds.cells("PARAMCD").map(parse_text)
        keep = pd.Series(True, index=codes.index)
        if m.record_flag and ds.has(m.record_flag):
            keep = ds.cells(m.record_flag).map(lambda v: str(parse_text(v)).upper() == "Y")
            mp.decide("response", f"ADRS records with {m.record_flag} = Y only "
                      f"({int(keep.sum()):,} of {len(keep):,})", ds.name, m.record_flag)
        elif m.record_flag:
            mp.decide("response", f"ADRS has no {m.record_flag}: every record is used", ds.name)
        sponsor: dict[str, dict[str, _Sponsor]] = {}
        visits: dict[str, list[Visit]] = {}
        for row, code in codes.items():
            if code is None:
                ds.log.error("missing_value", "PARAMCD is blank; every ADRS record needs a "
                             "parameter code", row, "PARAMCD")
                continue
            if not keep.loc[row] or code not in (m.bor, m.cbor, m.visits):
                continue
            subject = mp.known(ds, row, ids.loc[row], m.subject)
            if subject is None:
                continue
            text = parse_text(ds.cells("AVALC").loc[row])
            value = normalise_response(text) if text else None
            if value is None or (code == m.visits and value == "MISSING"):
                codes_text = ", ".join(VISIT_RESPONSES if code == m.visits else BEST_RESPONSES)
                ds.log.error("unknown_response_code", f"AVALC {text!r} of {code} is not a RECIST "
                             f"1.1 response ({codes_text})", row, "AVALC", text)
                subject.failed.update({"best_response", "response_evaluable"})
            elif code == m.visits:
                visit = self._visit(row, value, subject)
                if visit is not None:
                    visits.setdefault(subject.pid, []).append(visit)
            elif code in (own := sponsor.setdefault(subject.pid, {})):
                ds.log.error("duplicate_record", f"a second {code} record for {subject.pid} "
                             f"(the first is row {own[code].row})", row, "PARAMCD", code)
            else:
                own[code] = _Sponsor(value, int(row))
        return sponsor, visits

    def _visit(self, row: int, value: str, subject: Subject) -> Visit | None:
        ds, var = self.ds, self.date_var
        assert ds is not None
        date = ds.date(var, ds.cells(var).loc[row]) if var else None
        if not isinstance(date, pd.Timestamp):
            shown = show_value(ds.cells(var).loc[row]) if var else None
            ds.log.error("invalid_date", f"a visit response needs its date (ADT); got {shown!r}",
                         row, var or "ADT", shown)
            subject.failed.update({"best_response", "response_evaluable"})
            return None
        reference = self._reference(subject)
        return None if reference is None else Visit(float((date - reference).days), value,
                                                    int(row))

    def _reference(self, subject: Subject) -> pd.Timestamp | None:
        """The date days are counted from: adrs.reference_date, else the treatment start."""
        adsl, var = self.mp.data["adsl"], self.m.reference_date
        if self.m.line("adrs.reference_date") is None:
            return subject.start
        if not adsl.has(var):
            if not any(i.rule == "missing_required_column" and i.column == var
                       for i in adsl.log.items):
                adsl.log.error("missing_required_column", f"ADSL has no variable {var} "
                               "(adrs.reference_date)", None, var)
            return None
        value = adsl.date(var, adsl.cells(var).loc[subject.row])
        return value if isinstance(value, pd.Timestamp) else None

    def _source_text(self, use: str, n_sponsor: int, n_visits: int) -> str:
        m = self.m
        if use == "visits":
            origin = (m.reference_date if m.line("adrs.reference_date") else "treatment start")
            return (f"best overall response derived from the visit responses (PARAMCD "
                    f"{m.visits}, {n_visits:,} subjects) per RECIST 1.1: "
                    f"{m.windows.describe()}; days counted from {origin}; best_response = the "
                    "confirmed category when it is CR/PR (response_confirmed = 1), else the "
                    "unconfirmed one (a CR/PR then has response_confirmed = 0); NON-CR/NON-PD "
                    "counts as SD")
        given = [f"{p} ({w})" for p, w in ((m.cbor, "confirmed"), (m.bor, "unconfirmed"))
                 if p is not None]
        text = (f"best overall response from the sponsor's parameters {' and '.join(given)}, "
                f"{n_sponsor:,} subjects")
        if m.cbor and m.bor:
            text += (f": best_response = {m.cbor} when it is CR/PR (response_confirmed = 1), "
                     f"else {m.bor} (a CR/PR then has response_confirmed = 0)")
        elif m.cbor:
            text += f": a CR/PR of {m.cbor} is confirmed (response_confirmed = 1)"
        else:
            text += (f": confirmation of a CR/PR derived from the visit responses "
                     f"({m.visits}): {m.windows.describe()}")
        return text + ("; NON-CR/NON-PD counts as SD; a subject without a record counts as "
                       "MISSING")

    def _subject(self, s: Subject, use: str, own: dict[str, _Sponsor], visits: list[Visit],
                 pfs: Time | None) -> None:
        m, ds = self.m, self.ds
        assert ds is not None
        derived = derive_best_response(visits, m.windows) if visits else None
        confirmed: bool | None
        if use == "visits":
            category = "MISSING" if derived is None else (
                derived.cbor if derived.confirmed else derived.bor)
            confirmed = derived.confirmed if derived else None
            first = derived.first_response if derived else None
            row = first.row if first else (visits[-1].row if visits else None)
        else:
            bor, cbor = own.get(m.bor or ""), own.get(m.cbor or "")
            pick = cbor if cbor and (cbor.category in ("CR", "PR") or bor is None) else bor
            category, row = (pick.category, pick.row) if pick else ("MISSING", None)
            confirmed = (cbor.category in ("CR", "PR") if cbor
                         else derived.confirmed if derived else None)
        what = "ADRS best overall response" + (" derived from visits" if use == "visits" else "")
        origin = origin_of(ds, row, "AVALC" if row else None, what)
        evaluable = self._is_evaluable(s, category)
        s.set("response_evaluable", evaluable, origin)
        if not evaluable:
            return
        code = RESPONSE_CODE.get(category, "NE")  # MISSING of an evaluable patient: NE
        s.set("best_response", code, origin)
        if code not in ("CR", "PR"):
            return
        if confirmed is None:
            ds.log.error("missing_confirmation", f"best response {category} cannot be classed as "
                         f"confirmed or not: ADRS has no {m.cbor} record and no visit responses "
                         f"({m.visits}) to derive it from", row, "AVALC", category)
            s.failed.add("response_confirmed")
        s.set("response_confirmed", confirmed, origin)
        self._response_days(s, derived, row, pfs)

    def _is_evaluable(self, s: Subject, category: str) -> bool:
        m = self.m
        if m.evaluable == "treated":
            return True
        if m.evaluable == "flag" and m.evaluable_flag:
            adsl = self.mp.data["adsl"]
            flag = adsl.cells(m.evaluable_flag).loc[s.row] if adsl.has(m.evaluable_flag) else None
            return str(parse_text(flag)).upper() == "Y"
        return category != "MISSING"

    def _evaluable_text(self) -> None:
        m, treated = self.m, self.mp.treated()
        rule = {"assessed": "a best overall response other than MISSING (at least one response "
                            "assessment)",
                "treated": "every treated patient (MISSING counts as NE)",
                "flag": f"ADSL {m.evaluable_flag} = Y (MISSING counts as NE)"}[m.evaluable]
        chosen = [s for s in treated if s.cells.get("response_evaluable")]
        counts = Counter(str(s.cells.get("best_response")) for s in chosen)
        shown = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
        self.mp.decide("response", f"response_evaluable = {rule}: {len(chosen):,} of "
                       f"{len(treated):,} treated patients ({shown or 'none'})",
                       self.ds.name if self.ds else "", "AVALC")

    def _response_days(self, s: Subject, derived: DerivedResponse | None, row: int | None,
                       pfs: Time | None) -> None:
        """The first CR/PR on PFS's time scale, so that duration of response = PFS - it.

        From the ADTTE duration-of-response parameter when mapped (response = PFS AVAL - DOR
        AVAL); else from the date of the first CR/PR visit (or of the best-response record),
        as PFS AVAL minus the days from it to the PFS date (ADT).
        """
        ds, var = self.ds, self.date_var
        if self.m.response_date == "none" or pfs is None or ds is None:
            return
        dor = self.mp.dor.get(s.pid)
        if dor is not None:
            s.set("response_days", pfs.days - dor.days, dor.origin)
            return
        first = derived.first_response if derived else None
        at = first.row if first is not None else row
        date = ds.date(var, ds.cells(var).loc[at]) if at is not None and var else None
        if not isinstance(date, pd.Timestamp):
            return
        if pfs.date is not None:
            days: float | None = pfs.days - (pfs.date - date).days
        else:
            days = float((date - s.start).days) if s.start is not None else None
        if days is not None:
            s.set("response_days", days, origin_of(ds, at, var, "date of the first CR/PR (ADRS)"))
