-- rolling activity measures of each label day D: the last 7 and 30 days (D-6..D, D-29..D), the
-- 28-day baseline before the last 7 (D-34..D-7), purchases and balances over 90 days (D-89..D) and
-- withdrawals against the user's own history (D-89..D-7). Sparse: one row per (user_id,
-- label_date) for users signed up by D with an active day in D-89..D; a user without one has no
-- measures (user_daily_labels fills the values of no activity). Incremental over
-- [min_date - lookback_days, max_date). A label day reads its last 35 days of activity (the 7-day,
-- 30-day and baseline frames: macros/rolling_sums.sql, by the window's length) and, of the 90 days
-- before it, only the days with a purchase, a withdrawal or a balance. A lookback day is recomputed
-- only for the users with a late event on or before it or a profile landed in the window
-- (macros/late_users.sql): every other user's measures of that day read what the last run read.
{{ config(
    unique_key=['user_id', 'label_date'],
    pre_hook=[
        "{{ delete_window('label_date', window_min_date(), window_max_date()) }}",
        "{{ delete_late_users('label_date', 'relabelled_users') }}",
    ]
) }}

with

relabelled as (
    {{ relabelled_users() }}
),

recency as (
    -- the rows to measure: users with an active day in D-89..D, with the state carried for them
    select recency.user_id, recency.label_date, recency.days_since_last_key_action, recency.no_core_session_streak
    from {{ ref('int_user_recency') }} as recency
    left join relabelled on relabelled.user_id = recency.user_id
    -- the lookback's first day as a constant too, as the event models have it: a bound the scan can prune by
    where recency.label_date >= {{ lookback_start_date() }}
      and recency.label_date >= {{ recomputed_from('relabelled.first_day') }}
      and recency.label_date < {{ window_max_date() }}
      and {{ days_between('recency.last_active_date', 'recency.label_date') }} < 90
),

recent_activity as (
    -- the counts as doubles: DuckDB sums doubles about twice as fast as integers (whose sums widen to
    -- 128 bits), and counts this small add up exactly in either
    select
        activity.user_id,
        activity_date,
        {{ recomputed_from('relabelled.first_day') }} as recomputed_from,
        cast(1 as double) as active_day,
        cast(sessions as double) as sessions,
        cast(events as double) as events,
        cast(orders as double) as orders,
        revenue,
        cast(core_feature_events as double) as core_feature_events,
        cast(social_events as double) as social_events,
        cast(device_changes as double) as device_changes,
        cast(withdrawals as double) as withdrawals,
        max_withdrawal_amount,
        cast(investments as double) as investments
    from {{ ref('int_user_daily_activity') }} as activity
    left join relabelled on relabelled.user_id = activity.user_id
    where activity_date >= {{ lookback_start_date() }} - 34
      and activity_date < {{ window_max_date() }}
),

money_days as (
    -- the days that count over 90 days: purchases, withdrawals, balances
    select activity.*, {{ recomputed_from('relabelled.first_day') }} as recomputed_from
    from {{ ref('int_user_daily_activity') }} as activity
    left join relabelled on relabelled.user_id = activity.user_id
    where activity_date >= {{ lookback_start_date() }} - 89
      and activity_date < {{ window_max_date() }}
      and (orders > 0 or withdrawals > 0 or max_balance is not null)
),

label_days as (
    -- the days int_user_recency labelled in this run
    select distinct label_date from {{ ref('int_user_recency') }}
    where label_date >= {{ lookback_start_date() }}
      and label_date < {{ window_max_date() }}
),

{{ rolling_sums() }},

money as (
    select
        money_days.user_id,
        label_days.label_date,
        sum(money_days.orders) as orders_90d,
        sum(money_days.revenue) as revenue_90d,
        sum(money_days.coupon_orders) as coupon_orders_90d,
        count(*) filter (where money_days.orders > 0) as purchase_days_90d,
        min(money_days.activity_date) filter (where money_days.orders > 0) as first_purchase_date_90d,
        max(money_days.activity_date) filter (where money_days.orders > 0) as last_purchase_date_90d,
        max_by(money_days.end_balance, money_days.activity_date) filter (where money_days.end_balance is not null)
            as current_balance,
        max(money_days.max_balance) as peak_balance_90d,
        -- the user's own withdrawal history: days 7-89 before
        sum(money_days.withdrawals) filter (where money_days.activity_date <= label_days.label_date - 7)
            as withdrawals_history,
        sum(money_days.withdrawal_amount) filter (where money_days.activity_date <= label_days.label_date - 7)
            as withdrawal_amount_history
    from money_days
    inner join label_days
        on money_days.activity_date <= label_days.label_date
        and money_days.activity_date > label_days.label_date - 90
        and label_days.label_date >= money_days.recomputed_from
    group by 1, 2
)

select
    cast(recency.user_id as string) as user_id,
    cast(recency.label_date as date) as label_date,
    cast(coalesce(recent.active_days_30d, 0) as integer) as active_days_30d,
    cast(coalesce(recent.orders_30d, 0) as integer) as orders_30d,
    -- amounts rounded: float sums must not depend on the order rows are added in
    round(cast(coalesce(recent.revenue_30d, 0) as double), 6) as revenue_30d,
    cast(coalesce(money.orders_90d, 0) as integer) as orders_90d,
    round(cast(coalesce(money.revenue_90d, 0) as double), 6) as revenue_90d,
    cast(coalesce(money.coupon_orders_90d, 0) as integer) as coupon_orders_90d,
    cast(coalesce(recent.social_events_30d, 0) as integer) as social_events_30d,
    cast(coalesce(recent.device_changes_30d, 0) as integer) as device_changes_30d,
    cast(coalesce(recent.logins_7d, 0) as integer) as logins_7d,
    cast(coalesce(recent.sessions_baseline_28d, 0) / 4.0 as double) as logins_baseline_7d,
    cast(recent.events_7d / nullif(recent.logins_7d, 0) as double) as events_per_session_7d,
    cast(recent.events_baseline_28d / nullif(recent.sessions_baseline_28d, 0) as double) as events_per_session_baseline,
    round(cast(coalesce(recent.revenue_7d, 0) as double), 6) as spend_7d,
    round(cast(coalesce(recent.revenue_baseline_28d, 0) / 4.0 as double), 6) as spend_baseline_7d,
    cast(coalesce(recent.core_feature_7d, 0) as integer) as core_feature_7d,
    cast(coalesce(recent.core_feature_baseline_28d, 0) / 4.0 as double) as core_feature_baseline_7d,
    cast(coalesce(recent.social_events_7d, 0) as integer) as social_events_7d,
    cast(coalesce(recent.social_events_baseline_28d, 0) as integer) as social_events_baseline_28d,
    cast(coalesce(recent.device_changes_7d, 0) as integer) as device_changes_7d,
    cast(recency.no_core_session_streak as integer) as no_core_session_streak,
    cast(coalesce(money.purchase_days_90d, 0) as integer) as purchase_days_90d,
    cast(money.last_purchase_date_90d as date) as last_purchase_date_90d,
    cast({{ days_between('money.last_purchase_date_90d', 'recency.label_date') }} as integer) as days_since_last_purchase,
    -- the usual gap between purchase days: their span over the gaps between them
    cast(case when money.purchase_days_90d >= 2 then round(
        {{ days_between('money.first_purchase_date_90d', 'money.last_purchase_date_90d') }}
            / (money.purchase_days_90d - 1.0),
        6
    ) end as double) as purchase_cycle_days,
    cast(recency.days_since_last_key_action as integer) as days_since_last_key_action,
    cast(coalesce(recent.withdrawals_7d, 0) as integer) as withdrawals_7d,
    cast(coalesce(recent.withdrawals_30d, 0) as integer) as withdrawals_30d,
    cast(recent.max_withdrawal_7d as double) as max_withdrawal_7d,
    round(cast(money.withdrawal_amount_history / nullif(money.withdrawals_history, 0) as double), 6)
        as mean_withdrawal_history,
    cast(coalesce(recent.investments_7d, 0) as integer) as investments_7d,
    cast(money.current_balance as double) as current_balance,
    cast(money.peak_balance_90d as double) as peak_balance_90d
from recency
left join recent
    on recent.user_id = recency.user_id
    and recent.label_date = recency.label_date
left join money
    on money.user_id = recency.user_id
    and money.label_date = recency.label_date
{{ in_day_order('label_date') }}
