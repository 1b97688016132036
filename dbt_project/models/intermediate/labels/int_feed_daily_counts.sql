-- what the feed carried each day, summed over users: the events the early-warning signals need
-- (sessions, core-feature use, social events, device changes, purchases, withdrawals, balances).
-- One row per activity day; int_signal_availability reads its last days to tell which signals the
-- feed can support. Incremental over [min_date - lookback_days, max_date).
{{ config(
    unique_key=['activity_date'],
    pre_hook="{{ delete_window('activity_date', lookback_start_date(), window_max_date()) }}"
) }}

with

activity as (
    select * from {{ ref('int_user_daily_activity') }}
    where activity_date >= {{ lookback_start_date() }}
      and activity_date < {{ window_max_date() }}
)

select
    cast(activity_date as date) as activity_date,
    cast(count(*) as integer) as active_users,
    cast(sum(sessions) as integer) as sessions,
    cast(sum(core_feature_events) as integer) as core_feature_events,
    cast(sum(social_events) as integer) as social_events,
    cast(sum(device_changes) as integer) as device_changes,
    cast(sum(orders) as integer) as purchases,
    cast(sum(withdrawals) as integer) as withdrawals,
    cast(count(end_balance) as integer) as balance_reports
from activity
group by 1
