"""RECIST 1.1 best overall response from visit responses: each rule, its boundaries, and
invariants over random visit histories."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier.registry.adam_bor import (
    VISIT_RESPONSES,
    Visit,
    Windows,
    best_overall_response,
    confirmed_best_overall_response,
    derive_best_response,
    normalise_response,
    visits_in_scope,
)


def visits(*pairs: tuple[float, str]) -> list[Visit]:
    return [Visit(day, response) for day, response in pairs]


@pytest.mark.parametrize(("history", "bor", "cbor"), [
    ([], "MISSING", "MISSING"),
    ([(42, "PR"), (70, "PR")], "PR", "PR"),  # confirmed exactly 28 days later
    ([(42, "PR"), (69, "PR")], "PR", "SD"),  # 27 days: not confirmed; PR at day 42 is SD
    ([(21, "PR"), (35, "PR")], "PR", "NE"),  # unconfirmed and too early for SD
    ([(42, "CR"), (70, "CR")], "CR", "CR"),
    ([(42, "CR"), (70, "PR")], "CR", "SD"),  # a CR is confirmed by a CR only
    ([(42, "PR"), (70, "CR")], "CR", "PR"),  # a PR is confirmed by a later CR
    ([(42, "PR"), (56, "NE"), (84, "PR")], "PR", "PR"),  # one NE in between is allowed
    ([(42, "PR"), (56, "NE"), (63, "NE"), (84, "PR")], "PR", "SD"),  # two are not
    ([(42, "PR"), (56, "SD"), (84, "PR")], "PR", "SD"),  # SD in between breaks it
    ([(10, "PR"), (20, "CR"), (40, "PR")], "CR", "NE"),  # PR after CR: lost response
    ([(41, "SD")], "NE", "NE"),  # SD one day before the 42-day minimum
    ([(42, "SD")], "SD", "SD"),
    ([(21, "NON-CR/NON-PD"), (42, "NON-CR/NON-PD")], "NON-CR/NON-PD", "NON-CR/NON-PD"),
    ([(21, "NON-CR/NON-PD")], "NE", "NE"),
    ([(21, "SD"), (42, "PD"), (63, "SD")], "PD", "PD"),  # visits after the first PD ignored
    ([(42, "NE")], "NE", "NE"),
])
def test_rules_give_admiralonco_categories(history, bor, cbor):
    v = visits(*history)
    assert (best_overall_response(v), confirmed_best_overall_response(v)) == (bor, cbor)


def test_one_sd_between_is_accepted_only_when_asked():
    v = visits((42, "PR"), (56, "SD"), (84, "PR"))
    assert confirmed_best_overall_response(v, Windows(accept_sd_between=True)) == "PR"
    assert confirmed_best_overall_response(v, Windows(accept_sd_between=False)) == "SD"


def test_windows_are_parameters_not_constants():
    v = visits((30, "PR"), (51, "PR"))
    assert confirmed_best_overall_response(v, Windows(confirmation_days=21,
                                                      sd_min_days=28)) == "PR"
    assert confirmed_best_overall_response(v) == "SD"  # 21 days < 28; PR at day 51 >= 42
    assert best_overall_response(visits((30, "SD")), Windows(sd_min_days=28)) == "SD"
    assert confirmed_best_overall_response(
        visits((42, "PR"), (56, "NE"), (63, "NE"), (84, "PR")), Windows(max_ne_between=2)
    ) == "PR"


def test_scope_keeps_the_worst_per_day_and_stops_at_the_first_pd():
    v = visits((-7, "PR"), (42, "CR"), (42, "PD"), (63, "CR"))
    assert [(x.day, x.response) for x in visits_in_scope(v)] == [(42, "PD")]
    assert best_overall_response(v) == "PD"


def test_first_response_is_the_first_cr_or_pr_used():
    derived = derive_best_response([Visit(21, "SD", 5), Visit(42, "PR", 6), Visit(84, "CR", 7)])
    assert (derived.bor, derived.cbor, derived.confirmed) == ("CR", "PR", True)
    assert derived.first_response == Visit(42, "PR", 6)
    assert derived.n_visits == 3


@pytest.mark.parametrize(("text", "code"), [
    ("cr", "CR"), (" PR ", "PR"), ("Non-CR/Non-PD", "NON-CR/NON-PD"),
    ("NON CR/NON PD", "NON-CR/NON-PD"), ("missing", "MISSING"), ("PRX", None), ("", None),
])
def test_response_spellings_are_normalised(text, code):
    assert normalise_response(text) == code


RANK = {"CR": 0, "PR": 1, "SD": 2, "NON-CR/NON-PD": 3, "PD": 4, "NE": 5, "MISSING": 6}

histories = st.lists(st.tuples(st.integers(-10, 200), st.sampled_from(VISIT_RESPONSES)),
                     max_size=8)


@settings(max_examples=300, deadline=None)
@given(histories)
def test_confirmation_never_improves_the_best_response(history):
    v = visits(*history)
    bor, cbor = best_overall_response(v), confirmed_best_overall_response(v)
    if bor not in ("CR", "PR"):
        assert cbor == bor  # confirmation only concerns CR and PR
    elif cbor in ("CR", "PR"):
        assert RANK[bor] <= RANK[cbor]
    else:
        assert cbor not in ("CR", "PR", "MISSING")  # SD from day 42, else the other visits
    assert (bor == "MISSING") == (not visits_in_scope(v))
    assert (cbor == "MISSING") == (bor == "MISSING")
