-- the gaps between key actions that end on each day, by length: one row per (gap_end_date,
-- gap_days) with how many users closed a gap of that length that day, and the same gaps weighted
-- per user (each gap by 1 / the user's gaps in the rhythm window, so that a user weighs about one
-- in the app's rhythm however often it acts). The app's rhythm (int_key_action_rhythm) reads
-- these counts instead of the users' history, so fitting the thresholds of a day costs a few
-- hundred rows. Incremental over [min_date - lookback_days, max_date), from the gaps
-- int_user_recency measures on its own label days.
{{ config(
    unique_key=['gap_end_date', 'gap_days'],
    pre_hook="{{ delete_window('gap_end_date', lookback_start_date(), window_max_date()) }}"
) }}

{%- set window_days = var('rhythm_window_days') | int %}

with

closed_gaps as (
    select label_date, key_action_gap_days, key_action_days, first_key_action_date
    from {{ ref('int_user_recency') }}
    where label_date >= {{ lookback_start_date() }}
      and label_date < {{ window_max_date() }}
      and key_action_gap_days is not null
),

user_weighted as (
    -- the user's gaps within the rhythm window ending on this day: all its gaps so far when its
    -- first key action is inside the window (exact), else its lifelong rate over the window's days
    -- (the state carried by int_user_recency keeps no per-window count). Only the gaps so far: a
    -- user's later gaps are not known on the day, so while its history is younger than the window
    -- its earlier gaps weigh more (its k-th gap 1 / k, a frequent user about ln k in all rather than
    -- k; measured in docs/contracts.md)
    select
        label_date,
        key_action_gap_days,
        1.0 / greatest(1.0, case
            when {{ days_between('first_key_action_date', 'label_date') }} < {{ window_days }}
                then key_action_days - 1
            else (key_action_days - 1) * {{ window_days }}
                / {{ days_between('first_key_action_date', 'label_date') }}
        end) as user_weight
    from closed_gaps
)

select
    cast(label_date as date) as gap_end_date,
    cast(key_action_gap_days as integer) as gap_days,
    cast(count(*) as integer) as gaps,
    cast(sum(user_weight) as double) as user_weighted_gaps
from user_weighted
group by 1, 2
