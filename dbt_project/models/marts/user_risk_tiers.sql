-- lifecycle stage, risk level, RFM value tier, finance special tier and risk score per
-- (user_id, tier_date), derived row by row from user_daily_labels, the day's stage thresholds
-- (int_key_action_rhythm: fitted to the gaps between key actions, or the preset's) and the day's churn probability
-- (user_churn_scores, written by a Python asset; empty or missing rows mean the rules apply);
-- incremental over [min_date - lookback_days, max_date).
{{ config(
    unique_key=['user_id', 'tier_date'],
    contract={'enforced': true},
    pre_hook="{{ delete_window('tier_date', lookback_start_date(), window_max_date()) }}"
) }}

{%- set bands = var('risk_level_probabilities') %}

with

labels as (
    select * from {{ ref('user_daily_labels') }}
    where label_date >= {{ lookback_start_date() }}
      and label_date < {{ window_max_date() }}
),

scores as (
    select user_id, score_date, churn_probability, model_version, scored_by
    from {{ source('scoring', 'user_churn_scores') }}
    where score_date >= {{ lookback_start_date() }}
      and score_date < {{ window_max_date() }}
),

rhythm as (
    select * from {{ ref('int_key_action_rhythm') }}
    where rhythm_date >= {{ lookback_start_date() }}
      and rhythm_date < {{ window_max_date() }}
),

scored_labels as (
    -- the day's thresholds; a day without a rhythm row (hand-written labels) takes the preset's
    select
        labels.*,
        -- under its own name: `* exclude` would be DuckDB-only SQL (Spark cannot parse it)
        coalesce(labels.at_risk_silence_days, rhythm.stage_at_risk_days, {{ var('stage_at_risk_days') }})
            as at_risk_days_of_day,
        coalesce(rhythm.thresholds_source, 'preset') as thresholds_source,
        {%- for stage in ['dormant_light', 'dormant_medium', 'dormant_severe', 'churned'] %}
        coalesce(rhythm.stage_{{ stage }}_days, {{ var('stage_' ~ stage ~ '_days') }}) as stage_{{ stage }}_days,
        {%- endfor %}
        scores.churn_probability,
        scores.model_version,
        -- no probability (cold start, or no scores yet): the rules stage and score the user
        case when scores.churn_probability is null then 'rules' else 'model' end as scored_by
    from labels
    left join scores
        on scores.user_id = labels.user_id
        and scores.score_date = labels.label_date
    left join rhythm on rhythm.rhythm_date = labels.label_date
),

silence_staged as (
    -- the stages that precede at_risk, whoever scores: new (young and not silent), then the depth of
    -- the silence (days without a key action) against the day's thresholds
    select
        scored_labels.*,
        case
            when scored_labels.days_since_signup < {{ var('stage_new_user_days') }}
                and scored_labels.silent_days < scored_labels.at_risk_days_of_day then 'new'
            when scored_labels.silent_days >= scored_labels.stage_churned_days then 'churned'
            when scored_labels.silent_days >= scored_labels.stage_dormant_severe_days then 'dormant_severe'
            when scored_labels.silent_days >= scored_labels.stage_dormant_medium_days then 'dormant_medium'
            when scored_labels.silent_days >= scored_labels.stage_dormant_light_days then 'dormant_light'
        end as silence_stage
    from scored_labels
),

candidates as (
    -- whom the model may flag at_risk: users not new or churned whose probability reaches var
    -- `at_risk_min_probability`. Dormant users are candidates: the silent are the likeliest to go, and
    -- leaving them out left the model to pick among users who mostly come back (on the simulator the
    -- flag's precision was 1.3-2.3x the base rate; with them, docs/early-warning.md)
    select
        silence_staged.*,
        coalesce(silence_staged.silence_stage not in ('new', 'churned'), true)
            and silence_staged.churn_probability >= {{ var('at_risk_min_probability') }} as is_at_risk_candidate
    from silence_staged
),

day_users as (
    select label_date as counted_date, count(*) as users_of_day
    from candidates
    group by label_date
),

candidate_ranks as (
    -- the candidates by probability, most likely to churn first: only they are ranked (sorting every user of
    -- the three days cost 4.5-5.6 s at 1M users, against 1.6-2.0 s for the whole model this way)
    select
        user_id as ranked_user_id,
        label_date as ranked_date,
        row_number() over (
            partition by label_date
            order by churn_probability desc, user_id
        ) as probability_rank
    from candidates
    where is_at_risk_candidate
),

ranked as (
    -- the candidates most likely to churn, at most var `at_risk_max_share` of the day's users
    select
        candidates.*,
        day_users.users_of_day,
        candidate_ranks.probability_rank
    from candidates
    inner join day_users on day_users.counted_date = candidates.label_date
    left join candidate_ranks
        on candidate_ranks.ranked_user_id = candidates.user_id
        and candidate_ranks.ranked_date = candidates.label_date
),

staged as (
    select
        ranked.*,
        case
            when ranked.scored_by = 'model' then
                case
                    when ranked.is_at_risk_candidate
                        and ranked.probability_rank <= floor({{ var('at_risk_max_share') }} * ranked.users_of_day)
                        then 'at_risk'
                    when ranked.silence_stage is not null then ranked.silence_stage
                    when {{ days_between('ranked.last_reactivated_date', 'ranked.label_date') }} < {{ var('reactivation_window_days') }}
                        then 'reactivated'
                    else 'active'
                end
            when ranked.silence_stage is not null then ranked.silence_stage
            -- rules (cold start): silence past the user's at-risk threshold, then signals, then comeback
            when ranked.silent_days >= ranked.at_risk_days_of_day then 'at_risk'
            when ranked.signal_count >= {{ var('stage_at_risk_min_signals') }} then 'at_risk'
            when {{ days_between('ranked.last_reactivated_date', 'ranked.label_date') }} < {{ var('reactivation_window_days') }}
                then 'reactivated'
            else 'active'
        end as lifecycle_stage
    from ranked
),

scored as (
    select
        staged.*,
        case
            when staged.lifecycle_stage = 'churned' then 'lost'
            -- the model: bands of the churn probability (var `risk_level_probabilities`)
            when staged.scored_by = 'model' then
                case
                    when staged.churn_probability >= {{ bands[2] }} then 'high'
                    when staged.churn_probability >= {{ bands[1] }} then 'medium'
                    when staged.churn_probability >= {{ bands[0] }} then 'low'
                    else 'none'
                end
            -- the rules: by stage
            else
                case staged.lifecycle_stage
                    when 'at_risk' then 'low'
                    when 'dormant_light' then 'medium'
                    when 'dormant_medium' then 'medium'
                    when 'dormant_severe' then 'high'
                    else 'none'
                end
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
        -- rules, 0-100: 60 points for silence (linear up to the day's churned threshold) + 10 per fired signal
        least(100.0, round(
            60.0 * least(scored.silent_days, scored.stage_churned_days) / scored.stage_churned_days
            + 10.0 * coalesce(scored.signal_count, 0),
            1
        )) as rules_risk_score
    from scored
),

risk_scored as (
    select
        valued.*,
        -- the churn probability in percent when the model scores, else the rules' score
        case
            when valued.scored_by = 'model' then round(100.0 * valued.churn_probability, 1)
            else valued.rules_risk_score
        end as risk_score
    from valued
),

final as (
    select
        cast(user_id as string) as user_id,
        cast(label_date as date) as tier_date,
        cast(lifecycle_stage as string) as lifecycle_stage,
        cast(risk_level as string) as risk_level,
        cast(value_tier as string) as value_tier,
        cast(r_score as integer) as r_score,
        cast(f_score as integer) as f_score,
        cast(m_score as integer) as m_score,
        is_high_value_dormant,
        cast(risk_score as double) as risk_score,
        cast(coalesce(signals_fired, '') as string) as signals_fired,
        cast(special_tier as string) as special_tier,
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
        cast(value_decision_point as string) as value_decision_point,
        cast(coalesce(value_check_score, 0) as integer) as value_check_score,
        cast(churn_probability as double) as churn_probability,
        cast(scored_by as string) as scored_by,
        cast(model_version as string) as model_version,
        cast(rules_risk_score as double) as rules_risk_score,
        cast(at_risk_days_of_day as integer) as at_risk_silence_days,
        cast(stage_churned_days as integer) as churned_silence_days,
        cast(thresholds_source as string) as stage_thresholds_source,
        cast(activity_silent_days as integer) as activity_silent_days
    from risk_scored
)

select * from final
{{ in_day_order('tier_date') }}
