-- per calendar month of assignment and arm: the recall (wake-up) rate, coupon use and second churn of
-- the journeys measured so far (intent to treat: every assigned journey, whether or not a step was sent);
-- rates count only journeys whose window has closed. A view, built on each run after the measurement.
with

outcomes as (
    select
        assignment_date, arm, woke_up, woke_up_mature, coupon_code, coupon_redeemed, coupon_redeemed_mature,
        return_date, second_churned, second_churned_mature
    from {{ source('pipeline', 'recall_outcomes') }}
),

monthly as (
    select
        cast(date_trunc('month', assignment_date) as date) as assignment_month,
        arm,
        count(*) as journeys,
        count(*) filter (where woke_up_mature) as wake_up_measured_journeys,
        count(*) filter (where woke_up_mature and woke_up) as woke_up_journeys,
        count(*) filter (where coupon_code is not null and coupon_redeemed_mature) as coupon_measured_journeys,
        count(*) filter (where coupon_code is not null and coupon_redeemed_mature and coupon_redeemed)
            as coupons_redeemed,
        count(*) filter (where return_date is not null) as returned_journeys,
        count(*) filter (where return_date is not null and second_churned_mature) as second_churn_known_journeys,
        count(*) filter (where return_date is not null and second_churned_mature and second_churned)
            as second_churned_journeys
    from outcomes
    group by all
)

select
    assignment_month,
    arm,
    journeys,
    wake_up_measured_journeys,
    woke_up_journeys,
    cast(woke_up_journeys as double) / nullif(wake_up_measured_journeys, 0) as wake_up_rate,
    coupon_measured_journeys,
    coupons_redeemed,
    cast(coupons_redeemed as double) / nullif(coupon_measured_journeys, 0) as coupon_redemption_rate,
    returned_journeys,
    second_churn_known_journeys,
    second_churned_journeys,
    cast(second_churned_journeys as double) / nullif(second_churn_known_journeys, 0) as second_churn_rate
from monthly
