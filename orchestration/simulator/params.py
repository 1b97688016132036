"""Behavioural parameters of the simulated e-commerce world (segments, channels, rates) and the recall mechanics every
vertical shares, kept in one place; presets.py derives the other verticals from them."""

from __future__ import annotations

import numpy as np

SEGMENTS: tuple[str, ...] = ("price_sensitive", "feature_dependent", "social_driven")
SEGMENT_SHARES = np.array([0.40, 0.35, 0.25])
CHANNELS: tuple[str, ...] = ("push", "sms", "call")

# Event taxonomy of the ecommerce vertical; codes index this tuple.
EVENT_NAMES: tuple[str, ...] = (
    "app_open", "product_view", "search", "add_to_cart", "wishlist_add", "order_paid",
    "coupon_claim", "share", "comment", "follow", "device_change",
)
EV = {name: code for code, name in enumerate(EVENT_NAMES)}
# Opening the app from a recall message (taxonomy category recall_response): only the closed loop emits it.
RECALL_CLICK = "recall_click"
CORE_EVENTS: tuple[str, ...] = ("search", "add_to_cart", "wishlist_add")
OTHER_EVENTS: tuple[str, ...] = ("product_view", "share", "comment", "follow", "coupon_claim")
# Behaviour mix per segment (rows follow SEGMENTS): share of in-session events that use a core
# feature, then the mix inside core events and inside the other events.
CORE_SHARE = np.array([0.22, 0.45, 0.18])
CORE_MIX = np.array([[0.55, 0.35, 0.10], [0.40, 0.35, 0.25], [0.55, 0.30, 0.15]])
OTHER_MIX = np.array([
    [0.78, 0.03, 0.02, 0.02, 0.15],
    [0.90, 0.03, 0.03, 0.02, 0.02],
    [0.52, 0.18, 0.15, 0.12, 0.03],
])

# Latent engagement: base ~ lognormal with mean 1; decaying users fade exponentially and are
# 'churned' (engagement exactly 0) once the fading factor reaches CHURN_LEVEL.
BASE_SIGMA = 0.5
DECAY_SHARE = 0.35
DECAY_TAU_DAYS = (5.0, 18.0)
CHURN_LEVEL = 0.05
WEEKEND_FACTOR = 1.1

# Daily activity and orders, rational in engagement so that the outcome path uses exact IEEE
# arithmetic only (the potential-outcome replay must match the world bit for bit).
ACTIVE_HALF = np.float32(0.8)        # p_active = E / (E + ACTIVE_HALF)
ORDER_RATE = np.array([0.20, 0.22, 0.18], dtype=np.float32)  # per active day at high engagement
ORDER_HALF = np.float32(1.0)         # p_order = rate * E / (E + ORDER_HALF)
SECOND_ORDER = np.float32(0.15)      # chance of a second order on an ordering day, relative
ORDER_CAP = np.float32(0.9)
AMOUNT_SIGMA = 0.6
AMOUNT_MEAN = np.array([58.0, 80.0, 68.0])   # CNY, per segment
ORGANIC_COUPON = np.array([0.30, 0.06, 0.10])  # share of orders paid with a platform coupon
ORGANIC_CODES: tuple[str, ...] = ("SAVE10", "NEWUSER15", "FLASH5")
CURRENCY = "CNY"

# Sessions and depth (not on the outcome path).
SESSION_RATE = 0.6       # extra sessions ~ Poisson(rate * min(E, 3))
MAX_SESSIONS = 6
DEPTH_BASE, DEPTH_SLOPE = 0.6, 3.2  # events after app_open ~ Poisson(base + slope * relative engagement)
EVENT_GAP_SECONDS = 40.0
DEVICE_CHANGE_RATE = 0.004

# Consent at signup and the share of users who later opt out of one channel.
CONSENT_AT_SIGNUP = np.array([0.85, 0.70, 0.50])
CONSENT_CHANGE_SHARE = 0.10
CONSENT_OPT_OUT_WEIGHTS = np.array([0.4, 0.4, 0.2])
TIMEZONES: tuple[str, ...] = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Taipei")
TIMEZONE_SHARES = np.array([0.85, 0.06, 0.05, 0.04])

# Recall responses: open propensity per segment (rows) and channel (columns), user-level noise.
OPEN_PROPENSITY = np.array([
    [0.14, 0.12, 0.30],
    [0.20, 0.08, 0.40],
    [0.24, 0.06, 0.22],
])
PROPENSITY_NOISE_SIGMA = 0.3
CLICK_GIVEN_OPEN = np.array([0.40, 0.50, 0.50])
DELIVERY_RATE = np.array([0.95, 0.97, 0.70])  # call 'delivered' = connected
CHANNEL_COST = np.array([0.01, 0.05, 2.0])
# Boost to latent engagement after a response, in units of the user's base engagement; it fades
# linearly to zero over BOOST_DAYS, so it ends before the user's next possible journey.
BOOST_AMPLITUDE = np.array([
    [0.8, 0.9, 1.4],
    [1.1, 0.7, 1.6],
    [0.9, 0.6, 1.0],
], dtype=np.float32)
CLICK_BOOST_FACTOR = np.float32(1.5)
BOOST_DAYS = 28
COUPON_LIFT = np.array([2.0, 0.6, 0.8], dtype=np.float32)  # relative order-probability lift
COUPON_VALID_DAYS = 7
COUPON_VALUES = np.array([10, 20])

# The company's own campaigns.
FIRST_CAMPAIGN_DAY = 21
REASSIGN_GAP_DAYS = 30
STRATEGIES: tuple[str, ...] = ("winback_coupon", "care_push", "vip_callback")
STRATEGY_CHANNELS = {"winback_coupon": (0, 1), "care_push": (0,), "vip_callback": (0, 1, 2)}
PUSH_HOUR_UTC = 2  # 10:00 in Beijing
