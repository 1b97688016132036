"""The simulated users: segments, latent engagement and decay, signups, consent changes, and the users landing rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import params as P
from .config import SimulationConfig
from .presets import BEHAVIOURS, VerticalBehaviour
from .strings import concat, lookup, padded, prefixed_ids

US_PER_DAY = 86_400_000_000
NICK_HEADS = ("xiao", "da", "lao", "a", "mei", "jia", "hao", "le", "yun", "xin")
NICK_TAILS = ("mei", "long", "hua", "ming", "qing", "bao", "fei", "jun", "yu", "tian")


@dataclass(frozen=True)
class Population:
    """Per-user arrays (index = user number - 1) and the users landing table."""

    user_ids: pa.Array
    segment: np.ndarray          # int8 index into params.SEGMENTS
    base: np.ndarray             # float32 base engagement (mean ~1)
    signup_day: np.ndarray       # int32 day index
    signup_us: np.ndarray        # int64 microseconds after midnight of the signup day
    decays: np.ndarray           # bool
    decay_start_day: np.ndarray  # int32 day index, -1 when the user does not decay
    decay_tau: np.ndarray        # float64 days
    open_propensity: np.ndarray  # float64 (n, 3): push, sms, call
    consent0: np.ndarray         # bool (n, 3) at signup
    consent_change_day: np.ndarray      # int32, -1 when consent never changes
    consent_change_channel: np.ndarray  # int8 channel that is opted out
    users_table: pa.Table
    behaviour: VerticalBehaviour

    def consent_on(self, day: int) -> np.ndarray:
        """Consent in force at the start of a day (changes made that day count from the next)."""
        consent = self.consent0.copy()
        changed = (self.consent_change_day >= 0) & (self.consent_change_day < day)
        consent[np.flatnonzero(changed), self.consent_change_channel[changed]] = False
        return consent


def build_population(config: SimulationConfig, rng: np.random.Generator, epoch_day: int) -> Population:
    """Draw every user-level attribute; epoch_day is start_date in days since 1970-01-01."""
    n, n_days = config.n_users, config.n_days
    behaviour = BEHAVIOURS[config.vertical]
    segment = rng.choice(len(P.SEGMENTS), size=n, p=P.SEGMENT_SHARES).astype(np.int8)
    base = np.exp(rng.normal(-0.5 * P.BASE_SIGMA**2, P.BASE_SIGMA, n)).astype(np.float32)

    # About half sign up in the first two weeks, the rest over the first three quarters.
    early = rng.random(n) < 0.5
    signup_day = np.where(
        early, rng.integers(0, min(14, n_days), n), rng.integers(0, max(1, int(0.75 * n_days)), n)
    ).astype(np.int32)
    signup_us = (rng.random(n) * 72_000).astype(np.int64) * 1_000_000

    decays = rng.random(n) < behaviour.decay_share
    room = np.maximum(1, n_days - signup_day - 7)
    decay_start = np.where(decays, signup_day + 7 + (rng.random(n) * room).astype(np.int32), -1).astype(np.int32)
    tau = rng.uniform(*behaviour.decay_tau_days, n)

    noise = np.exp(rng.normal(0.0, P.PROPENSITY_NOISE_SIGMA, (n, 3)))
    propensity = np.clip(P.OPEN_PROPENSITY[segment] * noise, 0.0, 0.95)

    consent0 = rng.random((n, 3)) < P.CONSENT_AT_SIGNUP
    changes = rng.random(n) < P.CONSENT_CHANGE_SHARE
    change_day = signup_day + 1 + (rng.random(n) * np.maximum(1, n_days - signup_day - 1)).astype(np.int32)
    # Opt out of one channel the user had consented to; users without any consent change nothing.
    weights = rng.random((n, 3)) * P.CONSENT_OPT_OUT_WEIGHTS * consent0
    change_channel = np.argmax(weights, axis=1).astype(np.int8)
    changes &= (change_day < n_days) & consent0.any(axis=1)
    change_day = np.where(changes, change_day, -1).astype(np.int32)

    user_ids = prefixed_ids("u", np.arange(1, n + 1), 7)
    table = _users_table(rng, user_ids, signup_day, signup_us, consent0, change_day, change_channel, epoch_day)
    return Population(
        user_ids=user_ids, segment=segment, base=base, signup_day=signup_day, signup_us=signup_us,
        decays=decays, decay_start_day=decay_start, decay_tau=tau,
        open_propensity=propensity, consent0=consent0, consent_change_day=change_day,
        consent_change_channel=change_channel, users_table=table, behaviour=behaviour,
    )


def _users_table(
    rng: np.random.Generator, user_ids: pa.Array, signup_day: np.ndarray, signup_us: np.ndarray,
    consent0: np.ndarray, change_day: np.ndarray, change_channel: np.ndarray, epoch_day: int,
) -> pa.Table:
    """One row at signup plus one row per consent change (a later updated_at replaces the earlier row)."""
    n = len(signup_day)
    signup_at = (epoch_day + signup_day.astype(np.int64)) * US_PER_DAY + signup_us
    nickname = concat(
        lookup(NICK_HEADS, rng.integers(0, len(NICK_HEADS), n)),
        lookup(NICK_TAILS, rng.integers(0, len(NICK_TAILS), n)),
        "_", padded(rng.integers(0, 10_000, n), 4),
    )
    phone = concat("+861", padded(rng.integers(3_000_000_000, 9_999_999_999, n), 10))
    tz = lookup(P.TIMEZONES, rng.choice(len(P.TIMEZONES), size=n, p=P.TIMEZONE_SHARES))

    changed = np.flatnonzero(change_day >= 0)
    consent1 = consent0[changed].copy()
    consent1[np.arange(len(changed)), change_channel[changed]] = False
    change_at = (epoch_day + change_day[changed].astype(np.int64)) * US_PER_DAY + (
        rng.random(len(changed)) * 86_399
    ).astype(np.int64) * 1_000_000

    rows = np.concatenate([np.arange(n), changed])
    consent = np.concatenate([consent0, consent1])
    ts = pa.timestamp("us")
    return pa.table({
        "user_id": user_ids.take(pa.array(rows)),
        "signup_at": pa.array(signup_at[rows], ts),
        "nickname": nickname.take(pa.array(rows)),
        "phone": phone.take(pa.array(rows)),
        "timezone": tz.take(pa.array(rows)),
        "push_opt_in": pa.array(consent[:, 0]),
        "sms_opt_in": pa.array(consent[:, 1]),
        "call_opt_in": pa.array(consent[:, 2]),
        "updated_at": pa.array(np.concatenate([signup_at, change_at]), ts),
    })
