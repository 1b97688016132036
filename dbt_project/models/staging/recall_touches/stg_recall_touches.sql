-- accepted recall touches (treatment steps and control assignments), typed, one row per touch_id.
-- Incremental: the touches base_recall_touches restaged.
{{ config(pre_hook="{{ delete_restaged('base_recall_touches', 'clean_touch_id', 'touch_id') }}") }}

with

validated as (
    select * from {{ ref('base_recall_touches') }}
    where reject_reason is null
      and {{ restaged('base_recall_touches', 'clean_touch_id') }}
),

typed as (
    select
        clean_touch_id as touch_id,
        clean_action_id as action_id,
        clean_user_id as user_id,
        clean_strategy_id as strategy_id,
        clean_arm as arm,
        cast(step_value as integer) as step,
        clean_channel as channel,
        scheduled_at_utc as scheduled_at,
        {{ business_date('scheduled_at_utc') }} as scheduled_date,
        sent_at_utc as sent_at,
        clean_status as status,
        opened_at_utc as opened_at,
        clicked_at_utc as clicked_at,
        cost_value as cost,
        nullif(trim(coupon_code), '') as coupon_code,
        coupon_value_number as coupon_value,
        _landing_date,
        _source_file,
        _row_number
    from validated
)

select * from typed
