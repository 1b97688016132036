-- the gaps between key actions that end on each day, by length: one row per (gap_end_date,
-- gap_days) with how many users closed a gap of that length that day. The app's rhythm
-- (int_key_action_rhythm) reads these counts instead of the users' history, so fitting the
-- thresholds of a day costs a few hundred rows. Incremental over [min_date - lookback_days,
-- max_date), from the gaps int_user_recency measures on its own label days.
{{ config(
    unique_key=['gap_end_date', 'gap_days'],
    pre_hook="{{ delete_window('gap_end_date', lookback_start_date(), window_max_date()) }}"
) }}

with

closed_gaps as (
    select label_date, key_action_gap_days from {{ ref('int_user_recency') }}
    where label_date >= {{ lookback_start_date() }}
      and label_date < {{ window_max_date() }}
      and key_action_gap_days is not null
)

select
    cast(label_date as date) as gap_end_date,
    cast(key_action_gap_days as integer) as gap_days,
    cast(count(*) as integer) as gaps
from closed_gaps
group by 1, 2
