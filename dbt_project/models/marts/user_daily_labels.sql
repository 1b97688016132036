-- the label system as of each business day: one row per (user_id, label_date) for every user
-- signed up by that day. Assembled from the intermediate label models: recency and silence
-- (int_user_recency, every user), the user's at-risk threshold (its own usual gap between key
-- actions, else the app's rhythm of the day: int_key_action_rhythm), the signals the feed cannot
-- support (int_signal_availability), rolling activity, early-warning signals and value checks
-- (int_user_rolling_activity, and the ephemeral int_user_signals and int_user_value_checks, inlined
-- here as CTEs: users active in D-89..D only; everyone else gets the values of no activity). Incremental over
-- [min_date - lookback_days, max_date), like its inputs.
{{ config(
    unique_key=['user_id', 'label_date'],
    contract={'enforced': true},
    pre_hook="{{ delete_window('label_date', lookback_start_date(), window_max_date()) }}"
) }}

with

recency as (
    select * from {{ ref('int_user_recency') }}
    where label_date >= {{ lookback_start_date() }} and label_date < {{ window_max_date() }}
),

rolling as (
    select * from {{ ref('int_user_rolling_activity') }}
    where label_date >= {{ lookback_start_date() }} and label_date < {{ window_max_date() }}
),

signals as (
    select * from {{ ref('int_user_signals') }}
    where label_date >= {{ lookback_start_date() }} and label_date < {{ window_max_date() }}
),

value_checks as (
    select * from {{ ref('int_user_value_checks') }}
    where label_date >= {{ lookback_start_date() }} and label_date < {{ window_max_date() }}
),

rhythm as (
    select rhythm_date, stage_at_risk_days from {{ ref('int_key_action_rhythm') }}
    where rhythm_date >= {{ lookback_start_date() }} and rhythm_date < {{ window_max_date() }}
),

availability as (
    select label_date, signals_unavailable from {{ ref('int_signal_availability') }}
    where label_date >= {{ lookback_start_date() }} and label_date < {{ window_max_date() }}
),

final as (
    select
        recency.user_id,
        recency.label_date,
        recency.signup_date,
        recency.days_since_signup,
        recency.last_active_date,
        recency.days_since_last_active,
        recency.silent_days,
        recency.silence_grade,
        recency.last_key_action_date,
        recency.days_since_last_key_action,
        recency.last_reactivated_date,
        recency.activity_silent_days,
        recency.activity_silence_grade,
        recency.key_action_days,
        recency.first_key_action_date,
        recency.key_action_gap_days,
        recency.usual_key_action_gap_days,
        -- at risk past the user's own usual gap (x var `rhythm_user_gap_multiple`) once it has one,
        -- else past the app's at_risk threshold of the day (fitted or preset: int_key_action_rhythm)
        {%- if var('fit_stage_thresholds') %}
        coalesce(
            cast(floor({{ var('rhythm_user_gap_multiple') }} * recency.usual_key_action_gap_days) as integer) + 1,
            rhythm.stage_at_risk_days
        ) as at_risk_silence_days,
        {%- else %}
        rhythm.stage_at_risk_days as at_risk_silence_days,
        {%- endif %}
        coalesce(rolling.active_days_30d, 0) as active_days_30d,
        coalesce(rolling.orders_30d, 0) as orders_30d,
        coalesce(rolling.revenue_30d, 0) as revenue_30d,
        coalesce(rolling.orders_90d, 0) as orders_90d,
        coalesce(rolling.revenue_90d, 0) as revenue_90d,
        coalesce(rolling.coupon_orders_90d, 0) as coupon_orders_90d,
        coalesce(rolling.social_events_30d, 0) as social_events_30d,
        coalesce(rolling.device_changes_30d, 0) as device_changes_30d,
        coalesce(rolling.logins_7d, 0) as logins_7d,
        coalesce(rolling.logins_baseline_7d, 0) as logins_baseline_7d,
        signals.login_drop,
        rolling.events_per_session_7d,
        rolling.events_per_session_baseline,
        signals.depth_drop,
        coalesce(rolling.spend_7d, 0) as spend_7d,
        coalesce(rolling.spend_baseline_7d, 0) as spend_baseline_7d,
        signals.spend_drop,
        coalesce(rolling.core_feature_7d, 0) as core_feature_7d,
        coalesce(rolling.core_feature_baseline_7d, 0) as core_feature_baseline_7d,
        signals.core_feature_drop,
        coalesce(rolling.social_events_7d, 0) as social_events_7d,
        coalesce(rolling.social_events_baseline_28d, 0) as social_events_baseline_28d,
        coalesce(rolling.device_changes_7d, 0) as device_changes_7d,
        recency.no_core_session_streak,
        coalesce(rolling.purchase_days_90d, 0) as purchase_days_90d,
        rolling.last_purchase_date_90d,
        rolling.days_since_last_purchase,
        rolling.purchase_cycle_days,
        coalesce(rolling.withdrawals_7d, 0) as withdrawals_7d,
        coalesce(rolling.withdrawals_30d, 0) as withdrawals_30d,
        rolling.max_withdrawal_7d,
        rolling.mean_withdrawal_history,
        coalesce(rolling.investments_7d, 0) as investments_7d,
        rolling.current_balance,
        rolling.peak_balance_90d,
        -- the values of no activity for the users without a signal or value row only: a null from the rules of
        -- int_user_signals or int_user_value_checks stays null, for this model's not_null rules to catch
        {%- for name, rule, needs in early_warning_signals() %}
        coalesce(signals.signal_{{ name }}, false) as signal_{{ name }},
        {%- endfor %}
        case when signals.user_id is null then 0 else signals.signal_count end as signal_count,
        case when signals.user_id is null then '' else signals.signals_fired end as signals_fired,
        coalesce(availability.signals_unavailable, '') as signals_unavailable,
        case when value_checks.user_id is null then 1 else value_checks.rfm_recency_score end as rfm_recency_score,
        case when value_checks.user_id is null then 1 else value_checks.rfm_frequency_score end as rfm_frequency_score,
        case when value_checks.user_id is null then 1 else value_checks.rfm_monetary_score end as rfm_monetary_score,
        case when value_checks.user_id is null then false else value_checks.meets_high_value_rule end as meets_high_value_rule,
        case when value_checks.user_id is null then false else value_checks.value_depth end as value_depth,
        case when value_checks.user_id is null then false else value_checks.value_duration end as value_duration,
        value_checks.value_decision_point,
        coalesce(value_checks.value_decision, false) as value_decision,
        case when value_checks.user_id is null then 0 else value_checks.value_check_score end as value_check_score
    from recency
    left join rolling
        on rolling.user_id = recency.user_id
        and rolling.label_date = recency.label_date
    left join signals
        on signals.user_id = recency.user_id
        and signals.label_date = recency.label_date
    left join value_checks
        on value_checks.user_id = recency.user_id
        and value_checks.label_date = recency.label_date
    left join rhythm on rhythm.rhythm_date = recency.label_date
    left join availability on availability.label_date = recency.label_date
)

select * from final
{{ in_day_order('label_date') }}
