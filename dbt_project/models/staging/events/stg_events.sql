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

valid_copies as (
    -- narrow: what finding duplicates needs
    select clean_event_id, _landing_date, received_at_utc, _source_file, _row_number
    from {{ ref('base_events') }}
    where reject_reason is null
),

repeated_ids as (
    -- event_ids with several valid rows in the window (few): only these are ranked
    select clean_event_id from valid_copies
    group by clean_event_id
    having count(*) > 1
),

later_copies as (
    -- a valid row with an earlier valid copy in the window (earlier landing day first, then earlier
    -- received_at) that landed within the dedup horizon
    select _source_file, _row_number
    from (
        select
            _source_file,
            _row_number,
            _landing_date,
            lag(_landing_date) over (
                partition by clean_event_id
                order by _landing_date, received_at_utc, _source_file, _row_number
            ) as previous_landing_date
        from valid_copies
        where clean_event_id in (select clean_event_id from repeated_ids)
    ) as ranked
    where previous_landing_date >= _landing_date - {{ var('dedup_horizon_days') | int }}
),

first_copies as (
    -- duplicates (quarantined): later copies within the window, and events accepted on an earlier
    -- landing day of the dedup horizon (an anti-join on stg_events)
    select validated.* from validated
    left join later_copies
        on later_copies._source_file = validated._source_file
        and later_copies._row_number = validated._row_number
    where later_copies._row_number is null
    {% if is_incremental() %}
      and not {{ accepted_copy_before_window(this, 'validated.clean_event_id', 'validated._landing_date') }}
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
    from first_copies
)

select * from typed
