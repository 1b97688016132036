-- every raw recall touch row with parsed fields and a reject_reason (null when accepted).
-- Incremental per landing window: every row of the touch_ids with a row landed in it, of the
-- touches whose user's first users row may have landed in it, and of the accepted touches whose
-- user has no users row left (a users landing day loaded again without it) is checked again for
-- unknown_user (macros/restaged_rows.sql), stamped `_staged_by`, and replaces their older rows in
-- the post-hook.
{{ config(post_hook="{{ drop_replaced_rows('clean_touch_id') }}") }}

with

raw_touches as (
    select * from {{ source('raw', 'raw_recall_touches') }}
),

known_users as (
    select distinct trim(user_id) as user_id from {{ source('restricted', 'raw_users') }}
),
{% if restages_by_key() %}

window_touches as (
    -- the touch_ids with a row landed in the window, or of a user with a users row landed in it
    select nullif(trim(touch_id), '') as touch_id from raw_touches
    where {{ window_landed() }}
       or trim(user_id) in (select trim(user_id) from {{ source('restricted', 'raw_users') }} where {{ window_landed() }})
    union
    -- those staged from the window's rows before the landing day was loaded again, and the accepted
    -- ones of users no longer landed
    select staged.clean_touch_id from {{ this }} as staged
    left join known_users on known_users.user_id = staged.clean_user_id
    where ({{ window_landed('staged._landing_date') }})
       or (staged.reject_reason is null and known_users.user_id is null)
),
{% endif %}

restaged as (
    select * from raw_touches
    {% if restages_by_key() -%}
    where {{ window_landed() }} or nullif(trim(touch_id), '') in (select touch_id from window_touches)
    {%- endif %}
),

parsed as (
    select
        raw_touches.*,
        nullif(trim(raw_touches.touch_id), '') as clean_touch_id,
        nullif(trim(raw_touches.action_id), '') as clean_action_id,
        nullif(trim(raw_touches.user_id), '') as clean_user_id,
        nullif(trim(raw_touches.strategy_id), '') as clean_strategy_id,
        lower(trim(raw_touches.arm)) as clean_arm,
        {{ landed_number('step') }} as step_value,
        nullif(lower(trim(raw_touches.channel)), '') as clean_channel,
        lower(trim(raw_touches.status)) as clean_status,
        {{ landed_timestamp('scheduled_at') }} as scheduled_at_utc,
        {{ landed_timestamp('sent_at') }} as sent_at_utc,
        {{ landed_timestamp('opened_at') }} as opened_at_utc,
        {{ landed_timestamp('clicked_at') }} as clicked_at_utc,
        {{ landed_number('cost') }} as cost_value,
        {{ landed_number('coupon_value') }} as coupon_value_number,
        known_users.user_id is not null as is_known_user
    from restaged as raw_touches
    left join known_users on known_users.user_id = trim(raw_touches.user_id)
),

checked as (
    -- the first failing rule names the row's reason; the rules and bounds: docs/contracts.md
    select
        parsed.*,
        case
            when _load_error is not null then 'malformed_line'
            else coalesce(
                {{ id_reason('clean_touch_id', 'touch_id') }},
                {{ id_reason('clean_action_id', 'action_id') }},
                {{ id_reason('clean_user_id', 'user_id') }},
                {{ id_reason('clean_strategy_id', 'strategy_id') }},
                case
                    when clean_arm is null or clean_arm not in ('treatment', 'control') then 'invalid_arm'
                    -- a step is a whole number: 2.5 is not step 2
                    when step_value is null or not {{ is_finite('step_value') }} or step_value <> floor(step_value)
                        or (clean_arm = 'treatment' and step_value not in (1, 2, 3))
                        or (clean_arm = 'control' and step_value <> 0) then 'invalid_step'
                    when (clean_arm = 'treatment' and (clean_channel is null or clean_channel not in ('push', 'sms', 'call', 'in_app')))
                        or (clean_arm = 'control' and clean_channel is not null) then 'invalid_channel'
                    when clean_status is null or clean_status not in ('delivered', 'failed', 'holdout')
                        or (clean_arm = 'control') <> (clean_status = 'holdout') then 'invalid_status'
                    when scheduled_at_utc is null then 'invalid_scheduled_at'
                    when ({{ has_text('sent_at') }} and sent_at_utc is null)
                        or ({{ has_text('opened_at') }} and opened_at_utc is null)
                        or ({{ has_text('clicked_at') }} and clicked_at_utc is null)
                        then 'invalid_timestamp'
                    when scheduled_at_utc >= {{ arrival_ceiling('_landing_date') }} then 'scheduled_at_in_future'
                    when sent_at_utc is null and (opened_at_utc is not null or clicked_at_utc is not null)
                        then 'response_without_send'
                    when opened_at_utc < {{ skewed('sent_at_utc', '-') }} then 'opened_before_sent'
                    when clicked_at_utc < {{ skewed('sent_at_utc', '-') }} then 'clicked_before_sent'
                    when cost_value is null or not {{ is_finite('cost_value') }} or cost_value < 0
                        or cost_value > {{ var('max_touch_cost') }} then 'invalid_cost'
                    when ({{ has_text('coupon_value') }} or coupon_value_num is not null)
                        and (coupon_value_number is null or not {{ is_finite('coupon_value_number') }}
                             or coupon_value_number < 0 or coupon_value_number > {{ var('max_amount') }})
                        then 'invalid_coupon_value'
                    when not is_known_user then 'unknown_user'
                end
            )
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
            as reject_reason,
        '{{ invocation_id }}' as _staged_by
    from ranked
)

select * from validated
