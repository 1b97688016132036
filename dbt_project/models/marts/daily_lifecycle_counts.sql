-- one row per business day: the day's tiered users by lifecycle group, and the moves into and out of
-- churn since the day before. Incremental like user_risk_tiers over [min_date - lookback_days, max_date):
-- a day needs only its own tiers and the day before's, so a run reads four days of tiers, not the whole
-- history (churn_health_daily, a view over every day, read this through a window over all tiers: a cost
-- that grew with users x days on every run). The first build (a new warehouse, or one upgraded to this
-- model) counts every day the tiers hold, so that the dashboards keep their history.
{{ config(
    unique_key='report_date',
    contract={'enforced': true},
    pre_hook="{{ delete_window('report_date', lookback_start_date(), window_max_date()) }}"
) }}

with

tiers as (
    select user_id, tier_date, lifecycle_stage
    from {{ ref('user_risk_tiers') }}
    {% if is_incremental() -%}
    where tier_date >= {{ lookback_start_date() }}
      and tier_date < {{ window_max_date() }}
    {%- endif %}
),

day_before as (
    -- each user's stage on the day before a counted day, keyed by the counted day
    select user_id, tier_date + 1 as tier_date, lifecycle_stage as previous_stage
    from {{ ref('user_risk_tiers') }}
    {% if is_incremental() -%}
    where tier_date >= {{ lookback_start_date() }} - 1
      and tier_date < {{ window_max_date() }} - 1
    {%- endif %}
),

counted as (
    select
        tiers.tier_date as report_date,
        count(*) as users,
        count(case when tiers.lifecycle_stage in ('new', 'active', 'reactivated') then 1 end) as engaged_users,
        count(case when tiers.lifecycle_stage in ('at_risk', 'dormant_light', 'dormant_medium', 'dormant_severe')
            then 1 end) as at_risk_or_dormant_users,
        count(case when tiers.lifecycle_stage = 'churned' then 1 end) as churned_users,
        -- a user without a tier the day before (signed up that day) is in no base
        count(case when day_before.previous_stage <> 'churned' then 1 end) as churn_base_users,
        count(case when day_before.previous_stage <> 'churned' and tiers.lifecycle_stage = 'churned' then 1 end)
            as newly_churned_users,
        count(case when day_before.previous_stage = 'churned' and tiers.lifecycle_stage <> 'churned' then 1 end)
            as returned_from_churn_users
    from tiers
    left join day_before
        on day_before.user_id = tiers.user_id
        and day_before.tier_date = tiers.tier_date
    group by tiers.tier_date
)

select
    cast(report_date as date) as report_date,
    cast(users as bigint) as users,
    cast(engaged_users as bigint) as engaged_users,
    cast(at_risk_or_dormant_users as bigint) as at_risk_or_dormant_users,
    cast(churned_users as bigint) as churned_users,
    cast(churn_base_users as bigint) as churn_base_users,
    cast(newly_churned_users as bigint) as newly_churned_users,
    cast(returned_from_churn_users as bigint) as returned_from_churn_users
from counted
