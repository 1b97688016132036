-- lifecycle stage, risk level, RFM value tier, finance special tier and risk score per
-- (user_id, tier_date), derived
-- row by row from user_daily_labels; incremental over [min_date - lookback_days, max_date).
{{ config(
    unique_key=['user_id', 'tier_date'],
    contract={'enforced': true},
    pre_hook="{{ delete_window('tier_date', lookback_start_date(), window_max_date()) }}"
) }}

with

labels as (
    select * from {{ ref('user_daily_labels') }}
    where label_date >= {{ lookback_start_date() }}
      and label_date < {{ window_max_date() }}
),

staged as (
    -- precedence: new (young and not silent), then silence depth, then signals, then comeback
    select
        labels.*,
        case
            when labels.days_since_signup < {{ var('stage_new_user_days') }}
                and labels.silent_days < {{ var('stage_at_risk_days') }} then 'new'
            when labels.silent_days >= {{ var('stage_churned_days') }} then 'churned'
            when labels.silent_days >= {{ var('stage_dormant_severe_days') }} then 'dormant_severe'
            when labels.silent_days >= {{ var('stage_dormant_medium_days') }} then 'dormant_medium'
            when labels.silent_days >= {{ var('stage_dormant_light_days') }} then 'dormant_light'
            when labels.silent_days >= {{ var('stage_at_risk_days') }} then 'at_risk'
            when labels.signal_count >= {{ var('stage_at_risk_min_signals') }} then 'at_risk'
            when labels.label_date - labels.last_reactivated_date < {{ var('reactivation_window_days') }}
                then 'reactivated'
            else 'active'
        end as lifecycle_stage
    from labels
),

scored as (
    select
        staged.*,
        case staged.lifecycle_stage
            when 'at_risk' then 'low'
            when 'dormant_light' then 'medium'
            when 'dormant_medium' then 'medium'
            when 'dormant_severe' then 'high'
            when 'churned' then 'lost'
            else 'none'
        end as risk_level,
        -- RFM: quantile scores of the day, from user_daily_labels
        coalesce(staged.rfm_recency_score, 1) as r_score,
        coalesce(staged.rfm_frequency_score, 1) as f_score,
        coalesce(staged.rfm_monetary_score, 1) as m_score
    from staged
),

valued as (
    select
        scored.*,
        case
            when scored.f_score >= 4 and scored.m_score >= 4 then 'high'
            when scored.orders_90d > 0 then 'medium'
            else 'low'
        end as value_tier,
        coalesce(scored.meets_high_value_rule and scored.lifecycle_stage not in ('new', 'active'), false)
            as is_high_value_dormant,
        -- finance special tiers, kept apart from the stage so stage matching is unchanged
        case
            when scored.signal_partial_churn then 'partial_churn'
            when scored.signal_large_withdrawal then 'large_withdrawal'
        end as special_tier,
        -- 0-100: 60 points for silence (linear up to the churned threshold) + 10 per fired signal
        least(100.0, round(
            60.0 * least(scored.silent_days, {{ var('stage_churned_days') }}) / {{ var('stage_churned_days') }}
            + 10.0 * coalesce(scored.signal_count, 0),
            1
        )) as risk_score
    from scored
),

final as (
    select
        cast(user_id as varchar) as user_id,
        cast(label_date as date) as tier_date,
        cast(lifecycle_stage as varchar) as lifecycle_stage,
        cast(risk_level as varchar) as risk_level,
        cast(value_tier as varchar) as value_tier,
        cast(r_score as integer) as r_score,
        cast(f_score as integer) as f_score,
        cast(m_score as integer) as m_score,
        is_high_value_dormant,
        cast(risk_score as double) as risk_score,
        cast(coalesce(signals_fired, '') as varchar) as signals_fired,
        cast(special_tier as varchar) as special_tier,
        cast(signal_count as integer) as signal_count,
        cast(silence_grade as integer) as silence_grade,
        cast(silent_days as integer) as silent_days,
        cast(days_since_signup as integer) as days_since_signup,
        cast(days_since_last_key_action as integer) as days_since_last_key_action,
        cast(last_reactivated_date as date) as last_reactivated_date,
        cast(orders_90d as integer) as orders_90d,
        cast(revenue_90d as double) as revenue_90d,
        coalesce(value_depth, false) as value_depth,
        coalesce(value_duration, false) as value_duration,
        coalesce(value_decision, false) as value_decision,
        cast(value_decision_point as varchar) as value_decision_point,
        cast(coalesce(value_check_score, 0) as integer) as value_check_score
    from valued
)

select * from final
