"""Strategy library validation (file, field, line), templates and personal benefits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.recall.benefits import coupon_codes, coupon_value
from orchestration.recall.library import Benefit, StrategyLibraryError, load_strategy_library
from orchestration.recall.templates import render_bulk
from tests.recall_fixtures import SMALL_LIBRARY, library

DEFAULT_LIBRARY = Path(__file__).resolve().parents[1] / "orchestration" / "recall" / "strategies.yml"


def _error_for(tmp_path: Path, text: str) -> str:
    path = tmp_path / "strategies.yml"
    path.write_text(text)
    with pytest.raises(StrategyLibraryError) as info:
        load_strategy_library(path)
    return str(info.value)


def _line(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_default_library_encodes_the_playbook() -> None:
    lib = load_strategy_library(DEFAULT_LIBRARY)
    by_id = {s.id: s for s in lib.strategies}
    covered = {stage for s in lib.strategies for stage in s.match.lifecycle_stage}
    assert {"at_risk", "dormant_light", "dormant_medium", "dormant_severe", "churned"} <= covered
    # New, active and reactivated users are reached only on an early-warning signal.
    for strategy in lib.strategies:
        if set(strategy.match.lifecycle_stage) & {"new", "active", "reactivated"}:
            assert strategy.match.signals, strategy.id
    assert [(s.channel, s.delay_hours) for s in by_id["high_value_dormant_vip"].steps] == [("push", 0), ("sms", 24), ("call", 48)]
    # Vertical playbooks: game callback at severe, finance service call and A/B test on partial churn.
    assert by_id["game_severe_callback"].verticals == ["game"] and by_id["game_severe_callback"].steps[-1].channel == "call"
    assert by_id["finance_large_withdrawal_call"].match.special_tier == ["large_withdrawal"]
    assert {v.channel for v in by_id["finance_partial_churn_ab"].steps[0].arms()} == {"push", "sms"}
    assert lib.economics.skip_below_cost_tiers == ["low"] and lib.global_holdout_share > 0


def test_bad_channel_names_file_strategy_field_and_line(tmp_path: Path) -> None:
    text = SMALL_LIBRARY.replace("{channel: sms, delay_hours: 0", "{channel: fax, delay_hours: 0")
    message = _error_for(tmp_path, text)
    assert "strategies.yml: strategies[1] (id=winback): steps[0].channel: 'fax' is not one of push, sms, call, in_app" in message
    assert f"(line {_line(text, 'channel: fax')})" in message


def test_signals_lead_to_the_seeds_responses() -> None:
    lib = load_strategy_library(DEFAULT_LIBRARY)
    by_signal = {signal: s for s in lib.strategies for signal in s.match.signals}
    # Each early warning has its response, opening in the app.
    assert by_signal["login_drop"].steps[0].template == "care_inapp"
    assert by_signal["payment_interruption"].steps[0].benefit == "payment_comeback_coupon"
    assert by_signal["social_zero"].steps[0].template.startswith("community_invite")
    assert by_signal["device_change"].steps[0].template.startswith("security_check") and by_signal["device_change"].service
    # One strong signal is enough: the nudge needs no second signal and reaches active users.
    assert by_signal["core_feature_drop"].match.signals == ["core_feature_drop"]
    assert "active" in by_signal["core_feature_drop"].match.lifecycle_stage
    assert all(s.steps[0].channel == "in_app" for s in by_signal.values())
    assert "in_app" in lib.guardrails.channels and lib.economics.margin_for("finance") < lib.economics.margin_for("game")


def test_signals_value_checks_channels_and_margins_are_validated(tmp_path: Path) -> None:
    text = SMALL_LIBRARY.replace("match: {lifecycle_stage: [at_risk]}", "match: {lifecycle_stage: [at_risk], signals: [login_dropp]}")
    assert "match: signals: 'login_dropp' is not one of login_drop" in _error_for(tmp_path, text)
    text = SMALL_LIBRARY.replace("match: {lifecycle_stage: [at_risk]}", "match: {lifecycle_stage: [at_risk], min_value_checks: 4}")
    assert "min_value_checks: Input should be less than or equal to 3" in _error_for(tmp_path, text)
    # An in-app step needs the channel's limits in the guardrails.
    text = SMALL_LIBRARY.replace("{channel: push, delay_hours: 0, template: care_push}", "{channel: in_app, delay_hours: 0, template: care_push}")
    assert "steps[0].channel: channel 'in_app' has no limits in guardrails.channels" in _error_for(tmp_path, text)
    assert "in_app" in library(text.replace("    call: {cost: 1.0, daily_capacity: 2}\n",
                                            "    call: {cost: 1.0, daily_capacity: 2}\n    in_app: {cost: 0.0}\n")).guardrails.channels
    economics = "  skip_below_cost_tiers: [low]\n"
    assert "economics.margin_rate: 'shop' is not one of ecommerce" in _error_for(
        tmp_path, SMALL_LIBRARY.replace(economics, economics + "  margin_rate: {shop: 0.3}\n"))
    assert "margin_rate[game] must be in (0, 1]" in _error_for(tmp_path, SMALL_LIBRARY.replace(economics, economics + "  margin_rate: {game: 1.5}\n"))
    only_game = library(SMALL_LIBRARY.replace(economics, economics + "  margin_rate: {game: 0.7}\n"))
    assert only_game.economics.margin_for("game") == 0.7
    with pytest.raises(ValueError, match="no entry for vertical 'finance' and no 'default'"):
        only_game.economics.margin_for("finance")
    assert library().economics.margin_for("finance") == 0.3  # the default map
    assert "exploration_share: Input should be less than or equal to 0.5" in _error_for(
        tmp_path, SMALL_LIBRARY.replace(economics, economics + "  decision: {exploration_share: 0.9}\n"))


def test_holdout_duplicates_missing_and_unknown_fields(tmp_path: Path) -> None:
    assert "holdout_share: Input should be less than 1" in _error_for(tmp_path, SMALL_LIBRARY.replace("holdout_share: 0.2", "holdout_share: 1.0"))
    assert "strategies[2] (id=vip): id: duplicate id, already used by strategies[0]" in _error_for(tmp_path, SMALL_LIBRARY.replace("id: care", "id: vip"))
    message = _error_for(tmp_path, SMALL_LIBRARY.replace("    priority: 20\n", "").replace("priority: 5", "prio: 5"))
    assert "strategies[1] (id=winback): priority: required field is missing" in message
    assert "strategies[2] (id=care): prio: unknown field" in message


def test_ladder_dates_and_match_values(tmp_path: Path) -> None:
    assert "steps[2].delay_hours (24) must be greater than steps[1].delay_hours (24)" in _error_for(
        tmp_path, SMALL_LIBRARY.replace("delay_hours: 48", "delay_hours: 24"))
    assert "delay_hours must be a multiple of 24" in _error_for(tmp_path, SMALL_LIBRARY.replace("delay_hours: 48", "delay_hours: 36"))
    dated = SMALL_LIBRARY.replace("    priority: 5\n", "    priority: 5\n    active_from: 2026-03-01\n    active_to: 2026-02-01\n")
    assert "active_to (2026-02-01) is before active_from (2026-03-01)" in _error_for(tmp_path, dated)
    text = SMALL_LIBRARY.replace("[at_risk]}", "[at_rsk], segment: [bargain]}")
    message = _error_for(tmp_path, text)
    assert "strategies[2] (id=care): match: lifecycle_stage: 'at_rsk' is not one of new" in message
    assert "version: Input should be 2" in _error_for(tmp_path, SMALL_LIBRARY.replace("version: 2", "version: 1"))


def test_template_errors_name_the_template_and_line(tmp_path: Path) -> None:
    text = SMALL_LIBRARY.replace("we picked {recommendation}", "we picked {recomendation}")
    message = _error_for(tmp_path, text)
    assert "templates.care_push: unknown variable {recomendation}" in message
    assert f"(line {_line(text, 'care_push: ')})" in message
    late_nickname = SMALL_LIBRARY.replace('care_push: "{nickname}, we', 'care_push: "Hello again, {nickname}, we')
    assert "a push message must start the nickname within its first 10 characters" in _error_for(tmp_path, late_nickname)
    # A call script may put the nickname anywhere; a coupon code needs a benefit on the step.
    no_benefit = SMALL_LIBRARY.replace("template: coupon_sms, benefit: coupon}", "template: coupon_sms}")
    assert "template 'coupon_sms': uses {benefit} but the step offers no benefit" in _error_for(tmp_path, no_benefit)
    assert "unknown template 'nope'" in _error_for(tmp_path, SMALL_LIBRARY.replace("template: care_push}", "template: nope}"))


def test_render_and_missing_variables() -> None:
    names = pd.Series(["a", "b", "a"])
    values = pd.DataFrame({"nickname": ["Ann", "Bo", None], "benefit": ["$5 coupon", None, None]})
    messages, missing = render_bulk(names, values, {"a": "{nickname}: {benefit}", "b": "{nickname}!"})
    assert messages.tolist() == ["Ann: $5 coupon", "Bo!", None]
    assert missing.tolist() == [None, None, "nickname"]


def test_coupon_is_a_bounded_rounded_share_of_the_users_orders() -> None:
    coupon = Benefit(kind="coupon", label="coupon", share_of_order=0.2, min_value=5, max_value=50, round_to=5)
    aov = pd.Series([None, 10.0, 60.0, 62.4, 63.0, 87.0, 1000.0])
    # 20% of: none -> min; 2 -> 5 (min); 12 -> 10; 12.48 -> 10; 12.6 -> 15; 17.4 -> 15; 200 -> 50 (max).
    assert coupon_value(coupon, aov).tolist() == [5, 5, 10, 10, 15, 15, 50]
    pack = Benefit(kind="gift_pack", label="pack", value=30)
    assert coupon_value(pack, aov).tolist() == [30.0] * 7


def test_coupon_codes_are_unique_stable_and_readable() -> None:
    journeys = pd.Series([f"j_{i:016x}" for i in range(200_000)])
    codes = coupon_codes(journeys, pd.Series("coupon", index=journeys.index), "CR", "salt")
    assert len(set(codes)) == len(codes)
    assert pd.Series(codes).str.fullmatch(r"CR-[A-HJ-NP-Z2-9]{6}-[A-HJ-NP-Z2-9]{6}").all()
    assert (coupon_codes(journeys.head(5), pd.Series(["coupon"] * 5), "CR", "salt") == codes[:5]).all()
    assert not set(coupon_codes(journeys.head(5), pd.Series(["coupon"] * 5), "CR", "other")) & set(codes[:5])


def test_variant_shares_must_add_up() -> None:
    text = SMALL_LIBRARY.replace(
        "      - {channel: push, delay_hours: 0, template: care_push}",
        "      - channel: push\n        delay_hours: 0\n        template: care_push\n        variants:\n"
        "          - {id: a, share: 0.5}\n          - {id: b, share: 0.4, channel: sms}")
    with pytest.raises(StrategyLibraryError, match="variant shares must add up to 1, got 0.9"):
        library(text)
    assert np.isclose(sum(v.share for v in library(text.replace("share: 0.4", "share: 0.5")).get("care").steps[0].arms()), 1)
