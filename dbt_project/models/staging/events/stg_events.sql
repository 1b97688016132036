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

earlier_accepted as (
    -- events accepted on the dedup horizon's landing days before the window
    {% if is_incremental() %}
    select event_id, _landing_date from {{ this }}
    where _landing_date >= {{ window_min_date() }} - {{ var('dedup_horizon_days') | int }}
      and _landing_date < {{ window_min_date() }}
    {% else %}
    select cast(null as string) as event_id, cast(null as date) as _landing_date where false
    {% endif %}
),

-- The three steps below read base_events' valid rows each: as one CTE, DuckDB would materialise those rows (30 M
-- in a 100,000-user backfill) before reading them, which took a third longer than scanning three times.

repeated_ids as (
    -- event_ids with several valid rows in the window (few): only these are ranked
    select clean_event_id from {{ ref('base_events') }}
    where reject_reason is null
    group by clean_event_id
    having count(*) > 1
),

later_copies as (
    -- a valid row with an earlier valid copy in the window (earlier landing day first, then earlier
    -- received_at) that landed within the dedup horizon
    select _source_file, _row_number
    from (
        select
            valid_copies._source_file,
            valid_copies._row_number,
            valid_copies._landing_date,
            lag(valid_copies._landing_date) over (
                partition by valid_copies.clean_event_id
                order by valid_copies._landing_date, valid_copies.received_at_utc, valid_copies._source_file,
                    valid_copies._row_number
            ) as previous_landing_date
        from {{ ref('base_events') }} as valid_copies
        join repeated_ids on repeated_ids.clean_event_id = valid_copies.clean_event_id
        where valid_copies.reject_reason is null
    ) as ranked
    where previous_landing_date >= _landing_date - {{ var('dedup_horizon_days') | int }}
),

copies_accepted_before as (
    -- valid rows whose event was accepted on a landing day of the dedup horizon before the window
    select valid_copies._source_file, valid_copies._row_number
    from {{ ref('base_events') }} as valid_copies
    join earlier_accepted
        on earlier_accepted.event_id = valid_copies.clean_event_id
        and earlier_accepted._landing_date >= valid_copies._landing_date - {{ var('dedup_horizon_days') | int }}
    where valid_copies.reject_reason is null
),

duplicates as (
    select _source_file, _row_number from later_copies
    union
    select _source_file, _row_number from copies_accepted_before
),

first_copies as (
    -- the valid rows less the duplicates (quarantined by quarantine_events)
    select validated.*
    from validated
    left join duplicates
        on duplicates._source_file = validated._source_file
        and duplicates._row_number = validated._row_number
    where duplicates._row_number is null
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
        {{ as_json("coalesce(nullif(trim(properties), ''), '{}')") }} as properties,
        _landing_date,
        _source_file,
        _row_number
    from first_copies
)

select * from typed
