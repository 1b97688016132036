"""How users answer a recall contact: their latent, heterogeneous response, and what a contact changes in the world.

Every user carries two latent traits drawn once from the world's seed: some users no message moves (lost causes:
they may open, nothing changes) and some are pushed away by contact (sleeping dogs: a delivered message can start
their decay, so contact raises their churn). Users who would come back anyway need no trait: their engagement has
not decayed, so they return whatever the arm. For the others, a contact works through the first response (an open)
of a journey: a boost to engagement that fades over `params.BOOST_DAYS`, sized by segment and channel
(`params.BOOST_AMPLITUDE`), by a click, by the benefit's appeal to the segment, by how far the user has decayed
(lifecycle stage) and in units of the user's own base engagement (value). A coupon also raises the chance of an
order for `params.COUPON_VALID_DAYS` and discounts the first one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import params as P
from ..activity import decay_level
from ..population import US_PER_DAY, Population

US_PER_HOUR = 3_600_000_000
US_PER_SECOND = 1_000_000
BENEFIT_KINDS: tuple[str, ...] = ("none", "coupon", "gift_pack", "points")
# Share of lost causes (no message moves them) and of sleeping dogs (contact pushes them away), per segment.
LOST_CAUSE_SHARE = np.array([0.25, 0.20, 0.30])
SLEEPING_DOG_SHARE = np.array([0.05, 0.06, 0.12])
# Chance that a delivered message starts a sleeping dog's decay, per channel (push, sms, call), and that an SMS
# makes one reply STOP (opt out of SMS).
HARM_CHANCE = np.array([0.25, 0.45, 0.60])
STOP_REPLY_CHANCE = 0.5
# Appeal of a benefit (columns follow BENEFIT_KINDS) to each segment: multiplies the response boost.
BENEFIT_APPEAL = np.array([
    [1.0, 1.8, 1.2, 1.1],   # price_sensitive: coupons work best
    [1.0, 1.0, 1.1, 1.2],   # feature_dependent
    [1.0, 1.1, 1.4, 1.2],   # social_driven: gift packs to share
], dtype=np.float32)
BENEFIT_OPEN_FACTOR = 1.15  # a message that offers something is opened a little more often
MAX_OPEN = 0.95
OPEN_DELAY_MEAN_US = np.array([2 * US_PER_HOUR, 1 * US_PER_HOUR, 0])
MAX_OPEN_DELAY_US = 20 * US_PER_HOUR
# The in-app message (a channel of the strategy library the open-loop world never used): index 3 of LOOP_CHANNELS.
# It needs no opt-in, is delivered as a push is (placed in the app), opened IN_APP_SEEN times as often as a push
# (only by those who open the app while it is shown; the world does not tie it to the day's sessions) and then
# acts as a push does, but annoys less: a sleeping dog it reaches starts to decay with IN_APP_HARM_CHANCE.
LOOP_CHANNELS: tuple[str, ...] = (*P.CHANNELS, "in_app")
IN_APP = LOOP_CHANNELS.index("in_app")
IN_APP_SEEN = 0.5
IN_APP_HARM_CHANCE = 0.10


@dataclass(frozen=True)
class Traits:
    """Latent per-user response traits (index = user number - 1)."""

    lost_cause: np.ndarray    # bool
    sleeping_dog: np.ndarray  # bool, never a lost cause too

    @classmethod
    def draw(cls, pop: Population, rng: np.random.Generator) -> Traits:
        u = rng.random(len(pop.base))
        lost = u < LOST_CAUSE_SHARE[pop.segment]
        dog = ~lost & (u >= 1.0 - SLEEPING_DOG_SHARE[pop.segment])
        return cls(lost_cause=lost, sleeping_dog=dog)


@dataclass(frozen=True)
class Contacts:
    """Messages due on one day, one row each (real steps from the outbox, or a control journey's ghost steps)."""

    user: np.ndarray          # int32 user index, -1 for an unknown recipient
    channel: np.ndarray       # int8 index into LOOP_CHANNELS
    benefit: np.ndarray       # int8 index into BENEFIT_KINDS
    scheduled_us: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.user)


@dataclass(frozen=True)
class Resolved:
    """What happened to each contact; times are int64 microseconds (meaningless where the flag is false)."""

    delivered: np.ndarray
    sent_us: np.ndarray
    opened: np.ndarray
    opened_us: np.ndarray
    clicked: np.ndarray
    clicked_us: np.ndarray
    boost: np.ndarray   # float32: engagement boost of a response (base engagement x amplitude), 0 without one
    moves: np.ndarray   # a response that changes the user's behaviour (a coupon taken up, the app opened)
    harms: np.ndarray   # the message starts a sleeping dog's decay
    stop: np.ndarray    # an SMS answered with STOP (opt-out of SMS)


def resolve(contacts: Contacts, pop: Population, traits: Traits, consent: np.ndarray, day: int,
            decay_start: np.ndarray, decays: np.ndarray, rng: np.random.Generator) -> Resolved:
    """Deliver, open and click each contact from the day's draws, and size what a response would do.

    A message to a user who opted out of its channel (at the start of the day), or to an unknown recipient, fails.
    """
    n = len(contacts)
    u_deliver, u_open, u_click, u_harm, u_stop = (rng.random(n) for _ in range(5))
    latency, click_delay, open_wait = rng.random(n), rng.random(n), rng.exponential(1.0, n)
    known = contacts.user >= 0
    user = np.where(known, contacts.user, 0)
    in_app = contacts.channel.astype(np.intp) == IN_APP
    ch = np.where(in_app, 0, contacts.channel.astype(np.intp))  # an in-app message, once seen, acts as a push
    seg = pop.segment[user]
    reachable = np.where(in_app, True, consent[user, ch])
    delivered = known & reachable & (u_deliver < P.DELIVERY_RATE[ch])
    sent = contacts.scheduled_us + (1 + latency * 29).astype(np.int64) * US_PER_SECOND
    # Stage: a user far into decay opens less and is moved less (churned users respond at a third of the rate).
    level = decay_level(pop, user, np.full(n, day), decay_start[user], decays[user])
    offers = contacts.benefit > 0
    p_open = np.minimum(pop.open_propensity[user, ch] * (0.5 + 0.5 * level) * np.where(offers, BENEFIT_OPEN_FACTOR, 1.0)
                        * np.where(in_app, IN_APP_SEEN, 1.0), MAX_OPEN)
    opened = delivered & (u_open < p_open)
    movable = ~traits.lost_cause[user] & ~traits.sleeping_dog[user]
    delay = np.minimum((open_wait * OPEN_DELAY_MEAN_US[ch]).astype(np.int64), MAX_OPEN_DELAY_US)
    delay = np.where(ch == 2, (20 + latency * 70).astype(np.int64) * US_PER_SECOND, delay)  # a call is answered at once
    opened_us = sent + delay
    # Only users a message can move follow its link: a lost cause or a sleeping dog may open it, nothing more.
    clicked = opened & movable & (u_click < P.CLICK_GIVEN_OPEN[ch])
    clicked_us = opened_us + (5 + click_delay * 115).astype(np.int64) * US_PER_SECOND
    amplitude = (P.BOOST_AMPLITUDE[seg, ch] * np.where(clicked, P.CLICK_BOOST_FACTOR, np.float32(1.0))
                 * BENEFIT_APPEAL[seg, contacts.benefit.astype(np.intp)]
                 * (np.float32(0.35) + np.float32(0.65) * level.astype(np.float32)))
    boost = np.where(opened & movable, pop.base[user] * amplitude, np.float32(0.0)).astype(np.float32)
    dog = traits.sleeping_dog[user] & delivered
    return Resolved(
        delivered=delivered, sent_us=sent, opened=opened, opened_us=opened_us, clicked=clicked, clicked_us=clicked_us,
        boost=boost, moves=opened & movable, harms=dog & (u_harm < np.where(in_app, IN_APP_HARM_CHANCE, HARM_CHANCE[ch])),
        stop=dog & (ch == 1) & (u_stop < STOP_REPLY_CHANCE),
    )


def day_of(us: np.ndarray, epoch_day: int) -> np.ndarray:
    """World day index of UTC microsecond timestamps."""
    return (us // US_PER_DAY - epoch_day).astype(np.int32)
