-- the label system as of each business day: one row per (user_id, label_date) for every user
-- signed up by that day: silence, rolling activity, every early-warning signal against the user's
-- own baseline (signals_fired says which), RFM quantiles of the day and the value checks. Incremental over [min_date - lookback_days, max_date), clamped to days
-- with data. A day costs users x (window + 90 days), never the length of history: the running
-- dates (last active, last key action, last comeback) are carried from the previous day's rows
-- of this table, and the rolling windows come from a dense user x day grid of the last 90 days.
{{ config(
    unique_key=['user_id', 'label_date'],
    contract={'enforced': true},
    pre_hook="{{ delete_window('label_date', lookback_start_date(), window_max_date()) }}"
) }}

{#- Decided at compile time: when yesterday's labels exist, seed the running dates from them;
    otherwise (first run, full refresh, first partition) aggregate the history before the window. -#}
{%- set use_previous_labels = is_incremental()
    and relation_has_rows_on(this, 'label_date', lookback_start_date() ~ ' - 1') -%}
{%- set churned_days = var('stage_churned_days') | int -%}

with

users as (
    select user_id, signup_date, _landing_date from {{ ref('stg_users') }}
),

recent_activity as (
    -- the window plus the 90 days the rolling measures look back over
    select * from {{ ref('int_user_daily_activity') }}
    where activity_date >= {{ lookback_start_date() }} - 90
      and activity_date < {{ window_max_date() }}
),

recent_streaks as (
    select * from {{ ref('int_user_session_streaks') }}
    where activity_date >= {{ lookback_start_date() }} - 90
      and activity_date < {{ window_max_date() }}
),

recent_event_landings as (
    select max(_landing_date) as last_landing_date from {{ ref('stg_events') }}
    where _landing_date >= {{ lookback_start_date() }}
),

{% if use_previous_labels %}
previous_labels as (
    select * from {{ this }}
    where label_date = {{ lookback_start_date() }} - 1
),
{% else %}
history_activity as (
    select * from {{ ref('int_user_daily_activity') }}
    where activity_date < {{ lookback_start_date() }}
),
{% endif %}

bounds as (
    -- clamp the requested window to the days that have data: from the first signup to the
    -- last landing day (so a plain `dbt build` does not emit rows up to 2100)
    select
        greatest({{ lookback_start_date() }}, (select min(signup_date) from users)) as window_start,
        least(
            {{ window_max_date() }},
            coalesce(
                greatest((select last_landing_date from recent_event_landings), (select max(_landing_date) from users)),
                (select max(_landing_date) from users),
                (select last_landing_date from recent_event_landings)
            ) + 1
        ) as window_end
),

window_days as (
    select cast(unnest(range(
        cast(window_start as timestamp), cast(window_end as timestamp), interval 1 day
    )) as date) as label_date
    from bounds
),

grid_days as (
    select cast(unnest(range(
        cast(window_start - 90 as timestamp), cast(window_end as timestamp), interval 1 day
    )) as date) as activity_date
    from bounds
),

{% if use_previous_labels %}
previous_state as (
    select user_id, last_active_date, last_key_action_date, last_reactivated_date
    from previous_labels
),

window_active_days as (
    select recent_activity.user_id, recent_activity.activity_date
    from recent_activity
    cross join bounds
    where recent_activity.activity_date >= bounds.window_start
      and recent_activity.activity_date < bounds.window_end
),

comeback_candidates as (
    -- an active day is a comeback when the user had been silent >= the churned threshold the
    -- day before (silence counted from the previous active day, or from signup)
    select
        window_active_days.user_id,
        window_active_days.activity_date,
        coalesce(
            lag(window_active_days.activity_date) over (
                partition by window_active_days.user_id order by window_active_days.activity_date
            ),
            previous_state.last_active_date,
            users.signup_date
        ) as silence_start_date
    from window_active_days
    left join previous_state on previous_state.user_id = window_active_days.user_id
    left join users on users.user_id = window_active_days.user_id
),
{% else %}
all_active_days as (
    select user_id, activity_date from history_activity
    union all
    select recent_activity.user_id, recent_activity.activity_date
    from recent_activity
    cross join bounds
    where recent_activity.activity_date >= bounds.window_start
      and recent_activity.activity_date < bounds.window_end
),

comeback_candidates as (
    -- same rule as the incremental path, over the whole history
    select
        all_active_days.user_id,
        all_active_days.activity_date,
        coalesce(
            lag(all_active_days.activity_date) over (
                partition by all_active_days.user_id order by all_active_days.activity_date
            ),
            users.signup_date
        ) as silence_start_date
    from all_active_days
    left join users on users.user_id = all_active_days.user_id
),

history_comebacks as (
    select comeback_candidates.user_id, max(comeback_candidates.activity_date) as last_reactivated_date
    from comeback_candidates
    cross join bounds
    where comeback_candidates.activity_date < bounds.window_start
      and comeback_candidates.activity_date - 1 - comeback_candidates.silence_start_date
          >= {{ churned_days }}
    group by comeback_candidates.user_id
),

previous_state as (
    select
        history_activity.user_id,
        max(history_activity.activity_date) as last_active_date,
        max(history_activity.activity_date) filter (where history_activity.key_actions > 0)
            as last_key_action_date,
        any_value(history_comebacks.last_reactivated_date) as last_reactivated_date
    from history_activity
    cross join bounds
    left join history_comebacks on history_comebacks.user_id = history_activity.user_id
    where history_activity.activity_date < bounds.window_start
    group by history_activity.user_id
),
{% endif %}

comebacks as (
    select comeback_candidates.user_id, comeback_candidates.activity_date
    from comeback_candidates
    cross join bounds
    where comeback_candidates.activity_date >= bounds.window_start
      and comeback_candidates.activity_date - 1 - comeback_candidates.silence_start_date
          >= {{ churned_days }}
),

grid_users as (
    select distinct recent_activity.user_id
    from recent_activity
    cross join bounds
    where recent_activity.activity_date >= bounds.window_start - 90
      and recent_activity.activity_date < bounds.window_end
),

grid as (
    -- dense: every day of [window_start - 90, window_end) for every user active in that span
    select
        grid_users.user_id,
        grid_days.activity_date,
        recent_activity.user_id is not null as is_active,
        coalesce(recent_activity.key_actions, 0) > 0 as is_key_action_day,
        comebacks.user_id is not null as is_comeback_day,
        coalesce(recent_activity.sessions, 0) as sessions,
        coalesce(recent_activity.events, 0) as events,
        coalesce(recent_activity.orders, 0) as orders,
        coalesce(recent_activity.revenue, 0) as revenue,
        coalesce(recent_activity.core_feature_events, 0) as core_feature_events,
        coalesce(recent_activity.social_events, 0) as social_events,
        coalesce(recent_activity.coupon_orders, 0) as coupon_orders,
        coalesce(recent_activity.device_changes, 0) as device_changes,
        coalesce(recent_activity.withdrawals, 0) as withdrawals,
        coalesce(recent_activity.withdrawal_amount, 0) as withdrawal_amount,
        recent_activity.max_withdrawal_amount,
        coalesce(recent_activity.investments, 0) as investments,
        recent_activity.end_balance,
        recent_activity.max_balance,
        recent_streaks.no_core_session_streak
    from grid_users
    cross join grid_days
    left join recent_activity
        on recent_activity.user_id = grid_users.user_id
        and recent_activity.activity_date = grid_days.activity_date
    left join comebacks
        on comebacks.user_id = grid_users.user_id
        and comebacks.activity_date = grid_days.activity_date
    left join recent_streaks
        on recent_streaks.user_id = grid_users.user_id
        and recent_streaks.activity_date = grid_days.activity_date
),

rolling as (
    -- sliding frames over the dense grid (rows = days); exact sums, whatever the grid start
    select
        grid.user_id,
        grid.activity_date as label_date,
        max(case when grid.is_active and grid.activity_date >= bounds.window_start
            then grid.activity_date end) over running as window_last_active_date,
        max(case when grid.is_key_action_day and grid.activity_date >= bounds.window_start
            then grid.activity_date end) over running as window_last_key_action_date,
        max(case when grid.is_comeback_day then grid.activity_date end) over running
            as window_last_reactivated_date,
        sum(case when grid.is_active then 1 else 0 end) over last_30 as active_days_30d,
        sum(grid.orders) over last_30 as orders_30d,
        sum(grid.revenue) over last_30 as revenue_30d,
        sum(grid.orders) over last_90 as orders_90d,
        sum(grid.revenue) over last_90 as revenue_90d,
        sum(grid.social_events) over last_30 as social_events_30d,
        sum(grid.device_changes) over last_30 as device_changes_30d,
        sum(grid.coupon_orders) over last_90 as coupon_orders_90d,
        sum(grid.sessions) over last_7 as sessions_7d,
        sum(grid.events) over last_7 as events_7d,
        sum(grid.revenue) over last_7 as revenue_7d,
        sum(grid.core_feature_events) over last_7 as core_feature_7d,
        -- baseline: the 28 days before the last 7 (D-34 .. D-7)
        sum(grid.sessions) over baseline_28 as sessions_baseline_28d,
        sum(grid.events) over baseline_28 as events_baseline_28d,
        sum(grid.revenue) over baseline_28 as revenue_baseline_28d,
        sum(grid.core_feature_events) over baseline_28 as core_feature_baseline_28d,
        sum(grid.social_events) over last_7 as social_events_7d,
        sum(grid.social_events) over baseline_28 as social_events_baseline_28d,
        sum(grid.device_changes) over last_7 as device_changes_7d,
        -- purchase rhythm within the last 90 days (fixed frames: the same whatever the grid start)
        sum(case when grid.orders > 0 then 1 else 0 end) over last_90 as purchase_days_90d,
        min(case when grid.orders > 0 then grid.activity_date end) over last_90 as first_purchase_date_90d,
        max(case when grid.orders > 0 then grid.activity_date end) over last_90 as last_purchase_date_90d,
        -- days of the latest streak / balance in the frame (a max is cheap; the value is joined later)
        max(case when grid.no_core_session_streak is not null then grid.activity_date end) over last_90
            as streak_date_90d,
        -- finance: withdrawals against the user's own history (D-89..D-7), balance against its peak
        sum(grid.withdrawals) over last_7 as withdrawals_7d,
        sum(grid.withdrawals) over last_30 as withdrawals_30d,
        max(grid.max_withdrawal_amount) over last_7 as max_withdrawal_7d,
        sum(grid.withdrawals) over history_83 as withdrawals_history,
        sum(grid.withdrawal_amount) over history_83 as withdrawal_amount_history,
        sum(grid.investments) over last_7 as investments_7d,
        max(case when grid.end_balance is not null then grid.activity_date end) over last_90
            as balance_date_90d,
        max(grid.max_balance) over last_90 as peak_balance_90d
    from grid
    cross join bounds
    window
        running as (partition by grid.user_id order by grid.activity_date rows between unbounded preceding and current row),
        last_7 as (partition by grid.user_id order by grid.activity_date rows between 6 preceding and current row),
        last_30 as (partition by grid.user_id order by grid.activity_date rows between 29 preceding and current row),
        last_90 as (partition by grid.user_id order by grid.activity_date rows between 89 preceding and current row),
        baseline_28 as (partition by grid.user_id order by grid.activity_date rows between 34 preceding and 7 preceding),
        history_83 as (partition by grid.user_id order by grid.activity_date rows between 89 preceding and 7 preceding)
),

spine as (
    select users.user_id, users.signup_date, window_days.label_date
    from users
    inner join window_days on users.signup_date <= window_days.label_date
),

joined as (
    select
        spine.user_id,
        spine.label_date,
        spine.signup_date,
        coalesce(rolling.window_last_active_date, previous_state.last_active_date) as last_active_date,
        coalesce(rolling.window_last_key_action_date, previous_state.last_key_action_date)
            as last_key_action_date,
        coalesce(rolling.window_last_reactivated_date, previous_state.last_reactivated_date)
            as last_reactivated_date,
        coalesce(rolling.active_days_30d, 0) as active_days_30d,
        coalesce(rolling.orders_30d, 0) as orders_30d,
        -- amounts rounded: float sums over frames must not depend on where the grid starts
        round(coalesce(rolling.revenue_30d, 0), 6) as revenue_30d,
        coalesce(rolling.orders_90d, 0) as orders_90d,
        round(coalesce(rolling.revenue_90d, 0), 6) as revenue_90d,
        coalesce(rolling.social_events_30d, 0) as social_events_30d,
        coalesce(rolling.device_changes_30d, 0) as device_changes_30d,
        coalesce(rolling.coupon_orders_90d, 0) as coupon_orders_90d,
        coalesce(rolling.sessions_7d, 0) as logins_7d,
        coalesce(rolling.sessions_baseline_28d, 0) / 4.0 as logins_baseline_7d,
        coalesce(rolling.events_7d, 0) as events_7d,
        coalesce(rolling.events_baseline_28d, 0) as events_baseline_28d,
        coalesce(rolling.sessions_baseline_28d, 0) as sessions_baseline_28d,
        round(coalesce(rolling.revenue_7d, 0), 6) as spend_7d,
        round(coalesce(rolling.revenue_baseline_28d, 0) / 4.0, 6) as spend_baseline_7d,
        coalesce(rolling.core_feature_7d, 0) as core_feature_7d,
        coalesce(rolling.core_feature_baseline_28d, 0) / 4.0 as core_feature_baseline_7d,
        coalesce(rolling.social_events_7d, 0) as social_events_7d,
        coalesce(rolling.social_events_baseline_28d, 0) as social_events_baseline_28d,
        coalesce(rolling.device_changes_7d, 0) as device_changes_7d,
        coalesce(rolling.purchase_days_90d, 0) as purchase_days_90d,
        rolling.first_purchase_date_90d,
        rolling.last_purchase_date_90d,
        coalesce(latest_streak.no_core_session_streak, 0) as no_core_session_streak,
        coalesce(rolling.withdrawals_7d, 0) as withdrawals_7d,
        coalesce(rolling.withdrawals_30d, 0) as withdrawals_30d,
        rolling.max_withdrawal_7d,
        round(rolling.withdrawal_amount_history / nullif(rolling.withdrawals_history, 0), 6)
            as mean_withdrawal_history,
        coalesce(rolling.investments_7d, 0) as investments_7d,
        latest_balance.end_balance as current_balance,
        rolling.peak_balance_90d
    from spine
    left join rolling
        on rolling.user_id = spine.user_id
        and rolling.label_date = spine.label_date
    left join previous_state on previous_state.user_id = spine.user_id
    left join recent_streaks as latest_streak
        on latest_streak.user_id = spine.user_id
        and latest_streak.activity_date = rolling.streak_date_90d
    left join recent_activity as latest_balance
        on latest_balance.user_id = spine.user_id
        and latest_balance.activity_date = rolling.balance_date_90d
),

measures as (
    select
        joined.*,
        joined.label_date - joined.signup_date as days_since_signup,
        joined.label_date - joined.last_active_date as days_since_last_active,
        joined.label_date - joined.last_key_action_date as days_since_last_key_action,
        coalesce(joined.label_date - joined.last_active_date, joined.label_date - joined.signup_date)
            as silent_days,
        joined.events_7d / nullif(joined.logins_7d, 0) as events_per_session_7d,
        joined.events_baseline_28d / nullif(joined.sessions_baseline_28d, 0)
            as events_per_session_baseline,
        joined.label_date - joined.last_purchase_date_90d as days_since_last_purchase,
        -- the usual gap between purchase days: their span over the gaps between them
        case when joined.purchase_days_90d >= 2 then round(
            (joined.last_purchase_date_90d - joined.first_purchase_date_90d) / (joined.purchase_days_90d - 1.0), 6
        ) end as purchase_cycle_days
    from joined
),

drops as (
    -- drop = 1 - current / baseline, rounded so that an exact 30% compares as 0.3
    select
        measures.*,
        round(1 - measures.logins_7d / nullif(measures.logins_baseline_7d, 0), 6) as login_drop,
        round(1 - measures.events_per_session_7d / nullif(measures.events_per_session_baseline, 0), 6)
            as depth_drop,
        round(1 - measures.spend_7d / nullif(measures.spend_baseline_7d, 0), 6) as spend_drop,
        round(1 - measures.core_feature_7d / nullif(measures.core_feature_baseline_7d, 0), 6)
            as core_feature_drop
    from measures
),

signals as (
    select
        drops.*,
        coalesce(drops.logins_baseline_7d >= {{ var('signal_min_baseline_count') }}
            and drops.login_drop >= {{ var('signal_drop_threshold') }}, false) as signal_login_drop,
        coalesce(drops.logins_baseline_7d >= {{ var('signal_min_baseline_count') }}
            and drops.depth_drop >= {{ var('signal_drop_threshold') }}, false) as signal_depth_drop,
        coalesce(drops.spend_baseline_7d >= {{ var('signal_min_baseline_spend') }}
            and drops.spend_drop >= {{ var('signal_drop_threshold') }}, false) as signal_spend_drop,
        coalesce(drops.core_feature_baseline_7d >= {{ var('signal_min_baseline_count') }}
            and drops.core_feature_drop >= {{ var('signal_drop_threshold') }}, false)
            as signal_core_feature_drop,
        drops.no_core_session_streak >= {{ var('signal_no_core_session_streak') }} as signal_no_core_sessions,
        -- a regular payer (enough purchase days in 90) silent past tolerance x the usual cycle
        coalesce(drops.purchase_days_90d >= {{ var('signal_payment_min_purchase_days') }}
            and drops.days_since_last_purchase
                > {{ var('signal_payment_cycle_tolerance') }} * drops.purchase_cycle_days, false)
            as signal_payment_interruption,
        drops.social_events_7d = 0 and drops.social_events_baseline_28d > 0 as signal_social_zero,
        drops.device_changes_7d > 0 as signal_device_change,
        coalesce(drops.withdrawals_7d > 0 and (
            drops.max_withdrawal_7d >= {{ var('signal_large_withdrawal_multiple') }} * drops.mean_withdrawal_history
            or drops.max_withdrawal_7d >= {{ var('signal_large_withdrawal_peak_share') }} * drops.peak_balance_90d
        ), false) as signal_large_withdrawal,
        coalesce(drops.withdrawals_30d > 0 and drops.investments_7d = 0
            and drops.current_balance < {{ var('signal_partial_churn_asset_share') }} * drops.peak_balance_90d, false)
            as signal_partial_churn
    from drops
),

valued as (
    -- RFM quantiles among the day's purchasers (a purchase in 90 days): 1 + floor(5 x percent
    -- rank), ties share the lower score; users without a purchase score 1. Then the value checks.
    select
        signals.*,
        case when signals.orders_90d > 0 then least(5, 1 + floor(5 * percent_rank() over (
            partition by signals.label_date, signals.orders_90d > 0 order by signals.days_since_last_purchase desc
        ))) else 1 end as rfm_recency_score,
        case when signals.orders_90d > 0 then least(5, 1 + floor(5 * percent_rank() over (
            partition by signals.label_date, signals.orders_90d > 0 order by signals.orders_90d
        ))) else 1 end as rfm_frequency_score,
        case when signals.orders_90d > 0 then least(5, 1 + floor(5 * percent_rank() over (
            partition by signals.label_date, signals.orders_90d > 0 order by signals.revenue_90d
        ))) else 1 end as rfm_monetary_score,
        coalesce(signals.days_since_last_key_action <= {{ var('hvd_max_recency_days') }}
            and signals.orders_90d >= {{ var('hvd_min_frequency') }}
            and signals.revenue_90d >= {{ var('hvd_min_monetary') }}, false) as meets_high_value_rule,
        signals.revenue_90d >= {{ var('value_depth_min_monetary') }} as value_depth,
        coalesce(signals.purchase_days_90d >= {{ var('value_duration_min_purchase_days') }}
            and signals.days_since_last_purchase
                <= {{ var('signal_payment_cycle_tolerance') }} * signals.purchase_cycle_days, false)
            as value_duration,
        case
            when signals.orders_90d = 1
                and signals.days_since_last_purchase <= {{ var('value_first_repeat_window_days') }}
                then 'first_repeat'
            when signals.purchase_days_90d >= 2
                and abs(signals.purchase_cycle_days - signals.days_since_last_purchase)
                    <= {{ var('value_renewal_window_days') }}
                then 'renewal_due'
        end as value_decision_point
    from signals
),

final as (
    select
        cast(user_id as varchar) as user_id,
        cast(label_date as date) as label_date,
        cast(signup_date as date) as signup_date,
        cast(days_since_signup as integer) as days_since_signup,
        cast(last_active_date as date) as last_active_date,
        cast(days_since_last_active as integer) as days_since_last_active,
        cast(silent_days as integer) as silent_days,
        cast({{ thresholds_reached('silent_days', var('silence_grade_days')) }} as integer) as silence_grade,
        cast(last_key_action_date as date) as last_key_action_date,
        cast(days_since_last_key_action as integer) as days_since_last_key_action,
        cast(last_reactivated_date as date) as last_reactivated_date,
        cast(active_days_30d as integer) as active_days_30d,
        cast(orders_30d as integer) as orders_30d,
        cast(revenue_30d as double) as revenue_30d,
        cast(orders_90d as integer) as orders_90d,
        cast(revenue_90d as double) as revenue_90d,
        cast(coupon_orders_90d as integer) as coupon_orders_90d,
        cast(social_events_30d as integer) as social_events_30d,
        cast(device_changes_30d as integer) as device_changes_30d,
        cast(logins_7d as integer) as logins_7d,
        cast(logins_baseline_7d as double) as logins_baseline_7d,
        cast(login_drop as double) as login_drop,
        cast(events_per_session_7d as double) as events_per_session_7d,
        cast(events_per_session_baseline as double) as events_per_session_baseline,
        cast(depth_drop as double) as depth_drop,
        cast(spend_7d as double) as spend_7d,
        cast(spend_baseline_7d as double) as spend_baseline_7d,
        cast(spend_drop as double) as spend_drop,
        cast(core_feature_7d as integer) as core_feature_7d,
        cast(core_feature_baseline_7d as double) as core_feature_baseline_7d,
        cast(core_feature_drop as double) as core_feature_drop,
        cast(social_events_7d as integer) as social_events_7d,
        cast(social_events_baseline_28d as integer) as social_events_baseline_28d,
        cast(device_changes_7d as integer) as device_changes_7d,
        cast(no_core_session_streak as integer) as no_core_session_streak,
        cast(purchase_days_90d as integer) as purchase_days_90d,
        cast(last_purchase_date_90d as date) as last_purchase_date_90d,
        cast(days_since_last_purchase as integer) as days_since_last_purchase,
        cast(purchase_cycle_days as double) as purchase_cycle_days,
        cast(withdrawals_7d as integer) as withdrawals_7d,
        cast(withdrawals_30d as integer) as withdrawals_30d,
        cast(max_withdrawal_7d as double) as max_withdrawal_7d,
        cast(mean_withdrawal_history as double) as mean_withdrawal_history,
        cast(investments_7d as integer) as investments_7d,
        cast(current_balance as double) as current_balance,
        cast(peak_balance_90d as double) as peak_balance_90d,
        signal_login_drop,
        signal_depth_drop,
        signal_spend_drop,
        signal_core_feature_drop,
        signal_no_core_sessions,
        signal_payment_interruption,
        signal_social_zero,
        signal_device_change,
        signal_large_withdrawal,
        signal_partial_churn,
        cast(
            cast(signal_login_drop as integer)
            + cast(signal_depth_drop as integer)
            + cast(signal_spend_drop as integer)
            + cast(signal_core_feature_drop as integer)
            + cast(signal_no_core_sessions as integer)
            + cast(signal_payment_interruption as integer)
            + cast(signal_social_zero as integer)
            + cast(signal_device_change as integer)
            + cast(signal_large_withdrawal as integer)
            + cast(signal_partial_churn as integer)
            as integer
        ) as signal_count,
        cast(concat_ws(',',
            case when signal_login_drop then 'login_drop' end,
            case when signal_depth_drop then 'depth_drop' end,
            case when signal_spend_drop then 'spend_drop' end,
            case when signal_core_feature_drop then 'core_feature_drop' end,
            case when signal_no_core_sessions then 'no_core_sessions' end,
            case when signal_payment_interruption then 'payment_interruption' end,
            case when signal_social_zero then 'social_zero' end,
            case when signal_device_change then 'device_change' end,
            case when signal_large_withdrawal then 'large_withdrawal' end,
            case when signal_partial_churn then 'partial_churn' end
        ) as varchar) as signals_fired,
        cast(rfm_recency_score as integer) as rfm_recency_score,
        cast(rfm_frequency_score as integer) as rfm_frequency_score,
        cast(rfm_monetary_score as integer) as rfm_monetary_score,
        meets_high_value_rule,
        value_depth,
        value_duration,
        cast(value_decision_point as varchar) as value_decision_point,
        value_decision_point is not null as value_decision,
        cast(cast(value_depth as integer) + cast(value_duration as integer)
            + cast(value_decision_point is not null as integer) as integer) as value_check_score
    from valued
)

select * from final
