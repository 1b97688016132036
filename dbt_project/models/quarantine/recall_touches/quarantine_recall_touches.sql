-- rejected raw recall touch rows, as landed, with the reason. Incremental: the rows of the touches
-- base_recall_touches restaged, and the window's rows without a touch_id.
{{ config(pre_hook="{{ delete_restaged('base_recall_touches', 'clean_touch_id', 'touch_id', landed_key=true) }}") }}

with

validated as (
    select * from {{ ref('base_recall_touches') }}
    where reject_reason is not null
      and {{ restaged('base_recall_touches', 'clean_touch_id', landed_rows=true) }}
),

rejected as (
    select
        reject_reason,
        touch_id,
        action_id,
        user_id,
        strategy_id,
        arm,
        {{ landed_text('step', '_num') }} as step,
        channel,
        {{ landed_text('scheduled_at', '_ts') }} as scheduled_at,
        {{ landed_text('sent_at', '_ts') }} as sent_at,
        status,
        {{ landed_text('opened_at', '_ts') }} as opened_at,
        {{ landed_text('clicked_at', '_ts') }} as clicked_at,
        {{ landed_text('cost', '_num') }} as cost,
        coupon_code,
        {{ landed_text('coupon_value', '_num') }} as coupon_value,
        _landing_date,
        _source_file,
        _row_number,
        _load_error,
        _line_text
    from validated
)

select * from rejected
