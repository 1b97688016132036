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

typed as (
    select
        clean_event_id as event_id,
        clean_user_id as user_id,
        event_name,
        category,
        event_name in (
            {%- for e in var('key_action_events') %}'{{ e }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        ) as is_key_action,
        event_time_utc as event_time,
        received_at_utc as received_at,
        {{ business_date('event_time_utc') }} as event_date,
        amount_value as amount,
        try_cast(json_extract_string(properties_text, '$.balance') as double) as balance,
        json_extract_string(properties_text, '$.currency') as currency,
        json_extract_string(properties_text, '$.feature') as feature,
        json_extract_string(properties_text, '$.device_id') as device_id,
        json_extract_string(properties_text, '$.order_id') as order_id,
        nullif(json_extract_string(properties_text, '$.coupon_code'), '') as coupon_code,
        cast(properties_text as json) as properties,
        _landing_date,
        _source_file,
        _row_number
    from validated
)

select * from typed
