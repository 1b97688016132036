-- one row per business day: the day's tiered users, churn (users entering the churned stage among
-- those not churned the day before) and comebacks (daily_lifecycle_counts), the recall decisions planned
-- that day, and the coupon use of the journeys assigned that day. A view, built on each run after the
-- measurement.
with

actions as (
    select action_date, journey_id, step, arm, status, coupon_code, cost
    from {{ source('pipeline', 'recall_actions') }}
),

outcomes as (
    select assignment_date, arm, coupon_code, coupon_redeemed, coupon_redeemed_mature
    from {{ source('pipeline', 'recall_outcomes') }}
),

stages as (
    -- the day's tiered users and moves into and out of churn, counted once per day by the scored models
    select * from {{ ref('daily_lifecycle_counts') }}
),

first_offers as (
    -- a coupon is offered again on later steps of its journey: count it on its first day
    select coupon_code, min(action_date) as first_offered
    from actions
    where status = 'queued' and coupon_code is not null
    group by 1
),

decisions as (
    select
        action_date as report_date,
        count(*) filter (where step = 1 and status = 'queued') as treatment_journeys_started,
        count(*) filter (where step = 1 and status = 'holdout') as control_journeys_started,
        count(*) filter (where status = 'queued') as steps_queued,
        coalesce(sum(cost) filter (where status = 'queued'), 0) as contact_cost
    from actions
    group by 1
),

coupons_offered as (
    select first_offered as report_date, count(*) as coupons_offered
    from first_offers
    group by 1
),

coupon_use as (
    select
        assignment_date as report_date,
        count(*) filter (where coupon_code is not null) as coupon_journeys,
        count(*) filter (where coupon_redeemed) as coupons_redeemed,
        bool_and(coupon_redeemed_mature) filter (where coupon_code is not null) as coupon_redemption_mature
    from outcomes
    where arm = 'treatment'
    group by 1
)

select
    stages.report_date,
    stages.users,
    stages.engaged_users,
    stages.at_risk_or_dormant_users,
    stages.churned_users,
    stages.churn_base_users,
    stages.newly_churned_users,
    cast(stages.newly_churned_users as double) / nullif(stages.churn_base_users, 0) as churn_rate,
    stages.returned_from_churn_users,
    coalesce(decisions.treatment_journeys_started, 0) as treatment_journeys_started,
    coalesce(decisions.control_journeys_started, 0) as control_journeys_started,
    coalesce(decisions.steps_queued, 0) as steps_queued,
    coalesce(decisions.contact_cost, 0) as contact_cost,
    coalesce(coupons_offered.coupons_offered, 0) as coupons_offered,
    coalesce(coupon_use.coupon_journeys, 0) as coupon_journeys,
    coalesce(coupon_use.coupons_redeemed, 0) as coupons_redeemed,
    cast(coupon_use.coupons_redeemed as double) / nullif(coupon_use.coupon_journeys, 0) as coupon_redemption_rate,
    coupon_use.coupon_redemption_mature
from stages
left join decisions on decisions.report_date = stages.report_date
left join coupons_offered on coupons_offered.report_date = stages.report_date
left join coupon_use on coupon_use.report_date = stages.report_date
