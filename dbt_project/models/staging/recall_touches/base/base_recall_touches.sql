-- every raw recall touch row with parsed fields and a reject_reason (null when accepted).

with

raw_touches as (
    select * from {{ source('raw', 'raw_recall_touches') }}
),

parsed as (
    select
        raw_touches.*,
        nullif(trim(touch_id), '') as clean_touch_id,
        nullif(trim(action_id), '') as clean_action_id,
        nullif(trim(user_id), '') as clean_user_id,
        nullif(trim(strategy_id), '') as clean_strategy_id,
        lower(trim(arm)) as clean_arm,
        try_cast(try_cast(nullif(trim(step), '') as double) as integer) as step_number,
        nullif(lower(trim(channel)), '') as clean_channel,
        lower(trim(status)) as clean_status,
        {{ parse_utc_timestamp('scheduled_at') }} as scheduled_at_utc,
        {{ parse_utc_timestamp('sent_at') }} as sent_at_utc,
        {{ parse_utc_timestamp('opened_at') }} as opened_at_utc,
        {{ parse_utc_timestamp('clicked_at') }} as clicked_at_utc,
        try_cast(nullif(trim(cost), '') as double) as cost_value,
        try_cast(nullif(trim(coupon_value), '') as double) as coupon_value_number
    from raw_touches
),

checked as (
    select
        parsed.*,
        case
            when clean_touch_id is null then 'missing_touch_id'
            when clean_action_id is null then 'missing_action_id'
            when clean_user_id is null then 'missing_user_id'
            when clean_arm is null or clean_arm not in ('treatment', 'control') then 'invalid_arm'
            when step_number is null
                or (clean_arm = 'treatment' and step_number not in (1, 2, 3))
                or (clean_arm = 'control' and step_number <> 0) then 'invalid_step'
            when (clean_arm = 'treatment' and (clean_channel is null or clean_channel not in ('push', 'sms', 'call', 'in_app')))
                or (clean_arm = 'control' and clean_channel is not null) then 'invalid_channel'
            when clean_status is null or clean_status not in ('delivered', 'failed', 'holdout')
                or (clean_arm = 'control') <> (clean_status = 'holdout') then 'invalid_status'
            when scheduled_at_utc is null then 'invalid_scheduled_at'
            when (nullif(trim(sent_at), '') is not null and sent_at_utc is null)
                or (nullif(trim(opened_at), '') is not null and opened_at_utc is null)
                or (nullif(trim(clicked_at), '') is not null and clicked_at_utc is null)
                then 'invalid_timestamp'
            when cost_value is null or cost_value < 0 then 'invalid_cost'
            when nullif(trim(coupon_value), '') is not null
                and (coupon_value_number is null or coupon_value_number < 0) then 'invalid_coupon_value'
        end as content_reject_reason
    from parsed
),

ranked as (
    select
        checked.*,
        row_number() over (
            partition by clean_touch_id, content_reject_reason is null
            order by _landing_date, _source_file, _row_number
        ) as touch_rank
    from checked
),

validated as (
    select
        ranked.*,
        coalesce(content_reject_reason, case when touch_rank > 1 then 'duplicate_touch_id' end)
            as reject_reason
    from ranked
)

select * from validated
