-- one row per user and active business day: counts and amounts of that day's accepted events.
-- Incremental: recomputes event days [min_date, max_date), and the lookback days before them that a
-- user's late events are dated, for that user (macros/late_users.sql).
{{ config(
    unique_key=['user_id', 'activity_date'],
    pre_hook=[
        "{{ delete_window('activity_date', window_min_date(), window_max_date()) }}",
        "{{ delete_late_users('activity_date') }}",
    ]
) }}

with

late_users as (
    {{ late_users() }}
),

events as (
    select accepted.*
    from {{ ref('stg_events') }} as accepted
    left join late_users on late_users.user_id = accepted.user_id
    where accepted.event_date >= {{ lookback_start_date() }}
      and accepted.event_date < {{ window_max_date() }}
      and accepted.event_date >= {{ recomputed_from('late_users.first_day') }}
),

flagged as (
    select
        events.*,
        -- a purchase is a var `purchase_events` event carrying an amount (order_paid, iap_purchase, ...)
        (event_name in ({{ quoted_list(var('purchase_events')) }}) and amount is not null) as is_purchase,
        event_name in ({{ quoted_list(var('core_feature_events')) }}) as is_core_feature
    from events
),

features as (
    -- distinct core features used per user and day, counted apart: a count(distinct) among the
    -- aggregates below cost as much as all of them together (6.0 -> 3.5 s for 4 days at 1M users)
    select user_id, event_date, count(*) as distinct_features
    from (
        select distinct user_id, event_date, coalesce(feature, event_name) as feature_used
        from flagged
        where is_core_feature
    ) as used
    group by user_id, event_date
),

daily as (
    select
        user_id,
        event_date as activity_date,
        count(*) filter (where category = 'session') as sessions,
        count(*) as events,
        count(*) filter (where is_key_action) as key_actions,
        count(*) filter (where is_purchase) as orders,
        coalesce(sum(amount) filter (where is_purchase), 0) as revenue,
        count(*) filter (where is_core_feature) as core_feature_events,
        count(*) filter (where category = 'social') as social_events,
        count(*) filter (where is_purchase and coupon_code is not null) as coupon_orders,
        count(*) filter (where category = 'security') as device_changes,
        count(*) filter (where event_name = 'withdraw') as withdrawals,
        coalesce(sum(amount) filter (where event_name = 'withdraw'), 0) as withdrawal_amount,
        max(amount) filter (where event_name = 'withdraw') as max_withdrawal_amount,
        count(*) filter (where event_name = 'invest') as investments,
        -- the balance after the day's last balance-carrying event (ties broken by event_id)
        max_by(balance, {{ ordering_key(['event_time', 'event_id']) }}) filter (where balance is not null) as end_balance,
        max(balance) as max_balance,
        min(event_time) as first_event_at,
        max(event_time) as last_event_at
    from flagged
    group by user_id, event_date
)

select
    daily.user_id,
    daily.activity_date,
    cast(sessions as integer) as sessions,
    cast(events as integer) as events,
    cast(key_actions as integer) as key_actions,
    cast(orders as integer) as orders,
    round(cast(revenue as double), 6) as revenue,  -- rounded: parallel float sums may differ in the last bit
    cast(core_feature_events as integer) as core_feature_events,
    cast(coalesce(features.distinct_features, 0) as integer) as distinct_features,
    cast(social_events as integer) as social_events,
    cast(coupon_orders as integer) as coupon_orders,
    cast(device_changes as integer) as device_changes,
    cast(withdrawals as integer) as withdrawals,
    round(cast(withdrawal_amount as double), 6) as withdrawal_amount,
    cast(max_withdrawal_amount as double) as max_withdrawal_amount,
    cast(investments as integer) as investments,
    cast(end_balance as double) as end_balance,
    cast(max_balance as double) as max_balance,
    first_event_at,
    last_event_at
from daily
left join features
    on features.user_id = daily.user_id
    and features.event_date = daily.activity_date
{{ in_day_order('activity_date') }}
