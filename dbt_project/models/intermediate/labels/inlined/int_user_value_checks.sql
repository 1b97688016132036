-- the value of each user on each label day: RFM scores among the day's purchasers, the
-- high-value rule, and the three value checks (depth, duration, decision point). Sparse like
-- int_user_rolling_activity, which it reads: a user without activity in D-89..D passes none and
-- scores 1. Ephemeral (dbt_project.yml): a CTE of user_daily_labels, over the same label days.
with

rolling as (
    select * from {{ ref('int_user_rolling_activity') }}
    where label_date >= {{ lookback_start_date() }}
      and label_date < {{ window_max_date() }}
),

purchaser_scores as (
    -- RFM quantiles among the day's purchasers (a purchase in 90 days): 1 + floor(5 x percent
    -- rank), ties share the lower score. Ranked apart: the other users (most of a day) need no sort.
    select
        user_id,
        label_date,
        least(5, 1 + floor(5 * percent_rank() over (
            partition by label_date order by days_since_last_purchase desc
        ))) as rfm_recency_score,
        least(5, 1 + floor(5 * percent_rank() over (partition by label_date order by orders_90d))) as rfm_frequency_score,
        least(5, 1 + floor(5 * percent_rank() over (partition by label_date order by revenue_90d))) as rfm_monetary_score
    from rolling
    where orders_90d > 0
),

valued as (
    -- users without a purchase in 90 days score 1
    select
        rolling.user_id,
        rolling.label_date,
        coalesce(purchaser_scores.rfm_recency_score, 1) as rfm_recency_score,
        coalesce(purchaser_scores.rfm_frequency_score, 1) as rfm_frequency_score,
        coalesce(purchaser_scores.rfm_monetary_score, 1) as rfm_monetary_score,
        coalesce(
            days_since_last_key_action <= {{ var('hvd_max_recency_days') }}
            and orders_90d >= {{ var('hvd_min_frequency') }}
            and revenue_90d >= {{ var('hvd_min_monetary') }},
            false
        ) as meets_high_value_rule,
        -- depth: past high-value behaviour
        revenue_90d >= {{ var('value_depth_min_monetary') }} as value_depth,
        -- duration: a repeat payer still within its cycle
        coalesce(
            purchase_days_90d >= {{ var('value_duration_min_purchase_days') }}
            and days_since_last_purchase <= {{ var('signal_payment_cycle_tolerance') }} * purchase_cycle_days,
            false
        ) as value_duration,
        -- decision: a lifecycle turning point
        case
            when orders_90d = 1
                and days_since_last_purchase <= {{ var('value_first_repeat_window_days') }}
                then 'first_repeat'
            when purchase_days_90d >= 2
                and abs(purchase_cycle_days - days_since_last_purchase) <= {{ var('value_renewal_window_days') }}
                then 'renewal_due'
        end as value_decision_point
    from rolling
    left join purchaser_scores
        on purchaser_scores.user_id = rolling.user_id
        and purchaser_scores.label_date = rolling.label_date
)

select
    cast(user_id as string) as user_id,
    cast(label_date as date) as label_date,
    cast(rfm_recency_score as integer) as rfm_recency_score,
    cast(rfm_frequency_score as integer) as rfm_frequency_score,
    cast(rfm_monetary_score as integer) as rfm_monetary_score,
    meets_high_value_rule,
    value_depth,
    value_duration,
    cast(value_decision_point as string) as value_decision_point,
    value_decision_point is not null as value_decision,
    cast(
        cast(value_depth as integer) + cast(value_duration as integer)
        + cast(value_decision_point is not null as integer)
        as integer
    ) as value_check_score
from valued
