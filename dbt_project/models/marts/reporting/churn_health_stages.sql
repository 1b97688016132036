-- users per lifecycle stage and risk level on each day, and their share of the day's tiered users;
-- a view over every tier, built on each run after the measurement.
with

tiers as (
    select tier_date, lifecycle_stage, risk_level, is_high_value_dormant
    from {{ ref('user_risk_tiers') }}
),

counted as (
    select
        tier_date as report_date,
        lifecycle_stage,
        risk_level,
        count(*) as users,
        count(*) filter (where is_high_value_dormant) as high_value_dormant_users
    from tiers
    group by all
)

select
    report_date,
    lifecycle_stage,
    risk_level,
    users,
    high_value_dormant_users,
    cast(users as double) / sum(users) over (partition by report_date) as share_of_users
from counted
