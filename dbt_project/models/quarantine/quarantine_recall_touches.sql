-- rejected raw recall touch rows, as landed, with the reason.
with

validated as (
    select * from {{ ref('base_recall_touches') }}
    where reject_reason is not null
),

rejected as (
    select
        reject_reason,
        touch_id,
        action_id,
        user_id,
        strategy_id,
        arm,
        step,
        channel,
        scheduled_at,
        sent_at,
        status,
        opened_at,
        clicked_at,
        cost,
        coupon_code,
        coupon_value,
        _landing_date,
        _source_file,
        _row_number
    from validated
)

select * from rejected
