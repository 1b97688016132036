-- every raw event row of the landing window with its parsed fields and a reject_reason
-- (null when accepted); stg_events and quarantine_events split it, so raw = stg + quarantine.

with

raw_events as (
    -- the window plus the dedup horizon before it: duplicates are looked up only that far back
    select * from {{ source('raw', 'raw_events') }}
    where _landing_date >= {{ window_min_date() }} - {{ var('dedup_horizon_days') | int }}
      and _landing_date < {{ window_max_date() }}
),

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

parsed as (
    select
        raw_events.*,
        nullif(trim(raw_events.event_id), '') as clean_event_id,
        nullif(trim(raw_events.user_id), '') as clean_user_id,
        {{ parse_utc_timestamp('raw_events.event_time') }} as event_time_utc,
        {{ parse_utc_timestamp('raw_events.received_at') }} as received_at_utc,
        taxonomy.category,
        coalesce(nullif(trim(raw_events.properties), ''), '{}') as properties_text
    from raw_events
    left join taxonomy on taxonomy.event_name = raw_events.event_name
),

with_properties as (
    select
        parsed.*,
        -- case, not and: json_type must never see invalid text
        case when json_valid(properties_text) then json_type(properties_text) = 'OBJECT' else false end
            as is_valid_json
    from parsed
),

with_amount as (
    select
        with_properties.*,
        case when is_valid_json then json_extract_string(properties_text, '$.amount') end as amount_text,
        case when is_valid_json
            then try_cast(json_extract_string(properties_text, '$.amount') as double) end as amount_value
    from with_properties
),

checked as (
    select
        with_amount.*,
        case
            when clean_event_id is null then 'missing_event_id'
            when clean_user_id is null then 'missing_user_id'
            when event_time_utc is null then 'invalid_event_time'
            when received_at_utc is null then 'invalid_received_at'
            when category is null then 'unknown_event_name'
            when not is_valid_json then 'invalid_properties_json'
            when amount_text is not null and (amount_value is null or not isfinite(amount_value))
                then 'non_numeric_amount'
            when amount_value < 0 then 'negative_amount'
        end as content_reject_reason
    from with_amount
),

ranked as (
    -- among otherwise valid rows (the partition on the reason keeps rejected rows apart), the
    -- previous row with the same event_id: earlier landing day first, then earlier received_at
    select
        checked.*,
        lag(_landing_date) over (
            partition by clean_event_id, content_reject_reason is null
            order by _landing_date, received_at_utc, _source_file, _row_number
        ) as previous_landing_date
    from checked
),

validated as (
    -- a valid row is a duplicate when an earlier valid copy landed within the dedup horizon
    select
        ranked.*,
        coalesce(
            content_reject_reason,
            case when previous_landing_date >= _landing_date - {{ var('dedup_horizon_days') | int }}
                then 'duplicate_event_id' end
        ) as reject_reason
    from ranked
)

select * from validated
where _landing_date >= {{ window_min_date() }}
  and _landing_date < {{ window_max_date() }}
