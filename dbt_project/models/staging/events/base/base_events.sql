-- the processing window's raw event rows, parsed and checked once: stg_events and quarantine_events
-- read this table (it holds the last processed window only). Duplicate copies of an event are
-- found by stg_events (which keeps the first valid copy); quarantine_events takes the rest.
{{ config(
    incremental_strategy='append',
    pre_hook="{{ clear_relation() }}"
) }}

with

raw_events as (
    select * from {{ source('raw', 'raw_events') }}
    where _landing_date >= {{ window_min_date() }}
      and _landing_date < {{ window_max_date() }}
),

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

known_users as (
    -- every user with a users row landed so far (valid or not): an event of anyone else is orphaned
    select distinct trim(user_id) as user_id from {{ source('restricted', 'raw_users') }}
),

parsed as (
    select
        raw_events.*,
        nullif(trim(raw_events.event_id), '') as clean_event_id,
        nullif(trim(raw_events.user_id), '') as clean_user_id,
        {{ landed_timestamp('raw_events.event_time') }} as event_time_utc,
        {{ landed_timestamp('raw_events.received_at') }} as received_at_utc,
        taxonomy.category,
        coalesce(taxonomy.requires_amount, false) as requires_amount,
        coalesce(nullif(trim(raw_events.properties), ''), '{}') as properties_text,
        known_users.user_id is not null as is_known_user
    from raw_events
    left join taxonomy on taxonomy.event_name = raw_events.event_name
    left join known_users on known_users.user_id = trim(raw_events.user_id)
),

with_properties as (
    select
        parsed.*,
        {{ is_json_object('properties_text') }} as is_valid_json
    from parsed
),

with_values as (
    -- one parse of the properties for every key staging reads
    select
        with_properties.*,
        case when is_valid_json then {{ json_strings(
            'properties_text',
            ['$.amount', '$.balance', '$.currency', '$.feature', '$.device_id', '$.order_id', '$.coupon_code']
        ) }} end as property_values
    from with_properties
),

with_amounts as (
    select
        with_values.*,
        {{ list_item('property_values', 1) }} as amount_text,
        try_cast({{ list_item('property_values', 1) }} as double) as amount_value,
        {{ list_item('property_values', 2) }} as balance_text,
        try_cast({{ list_item('property_values', 2) }} as double) as balance_value
    from with_values
),

checked as (
    -- the first failing rule names the row's reason; the rules and bounds: docs/contracts.md
    select
        with_amounts.*,
        case
            when _load_error is not null then 'malformed_line'
            else coalesce(
                {{ id_reason('clean_event_id', 'event_id') }},
                {{ id_reason('clean_user_id', 'user_id') }},
                case
                    when event_time_utc is null then 'invalid_event_time'
                    when received_at_utc is null then 'invalid_received_at'
                    when received_at_utc >= {{ arrival_ceiling('_landing_date') }}
                        or received_at_utc < {{ dbt.dateadd('day', -(var('max_landing_delay_days') | int), 'cast(_landing_date as timestamp)') }}
                        then 'received_at_off_landing_day'
                    when event_time_utc >= {{ arrival_ceiling('_landing_date') }} then 'event_time_in_future'
                    when event_time_utc > {{ skewed('received_at_utc') }} then 'received_before_event_time'
                    when event_time_utc < {{ dbt.dateadd('day', -(var('max_event_age_days') | int), 'received_at_utc') }}
                        then 'event_too_old'
                    when category is null then 'unknown_event_name'
                    when not is_valid_json then 'invalid_properties_json'
                    when amount_text is not null and (amount_value is null or not {{ is_finite('amount_value') }})
                        then 'non_numeric_amount'
                    when amount_value < 0 then 'negative_amount'
                    when amount_value > {{ var('max_amount') }} then 'implausible_amount'
                    when requires_amount and amount_value is null then 'missing_amount'
                    when balance_text is not null and (balance_value is null or not {{ is_finite('balance_value') }}
                        or abs(balance_value) > {{ var('max_amount') }}) then 'invalid_balance'
                    when not is_known_user then 'unknown_user'
                end
            )
        end as content_reject_reason
    from with_amounts
),

validated as (
    select
        -- each id once: the clean id, and the landed text only where it differs (spaces around it, blank).
        -- Both in full made the ids a third of this table's write at 30 M rows (a 100,000-user backfill)
        case when clean_event_id is null or event_id <> clean_event_id then event_id end as landed_event_id,
        case when clean_user_id is null or user_id <> clean_user_id then user_id end as landed_user_id,
        event_name,
        event_time,
        event_time_ts,
        received_at,
        received_at_ts,
        properties,
        clean_event_id,
        clean_user_id,
        event_time_utc,
        received_at_utc,
        category,
        amount_value,
        balance_value,
        {{ list_item('property_values', 3) }} as currency,
        {{ list_item('property_values', 4) }} as feature,
        {{ list_item('property_values', 5) }} as device_id,
        {{ list_item('property_values', 6) }} as order_id,
        nullif({{ list_item('property_values', 7) }}, '') as coupon_code,
        content_reject_reason as reject_reason,
        _landing_date,
        _source_file,
        _row_number,
        _load_error,
        _line_text
    from checked
)

select * from validated
