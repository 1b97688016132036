-- accepted events, typed, one row per event_id; incremental per landing day.
{{ config(
    unique_key='_landing_date',
    pre_hook="{{ delete_window('_landing_date', window_min_date(), window_max_date()) }}"
) }}

with

validated as (
    select * from {{ ref('base_events') }}
    where reject_reason is null
),

not_seen_before as (
    -- an event accepted on an earlier landing day of the dedup horizon is a duplicate (quarantined)
    select * from validated
    {% if is_incremental() %}
    where not {{ accepted_copy_before_window(this, 'validated.clean_event_id', 'validated._landing_date') }}
    {% endif %}
),

typed as (
    select
        clean_event_id as event_id,
        clean_user_id as user_id,
        event_name,
        category,
        event_name in ({{ quoted_list(var('key_action_events')) }}) as is_key_action,
        event_time_utc as event_time,
        received_at_utc as received_at,
        {{ business_date('event_time_utc') }} as event_date,
        amount_value as amount,
        balance_value as balance,
        currency,
        feature,
        device_id,
        order_id,
        coupon_code,
        cast(properties_text as json) as properties,
        _landing_date,
        _source_file,
        _row_number
    from not_seen_before
)

select * from typed
