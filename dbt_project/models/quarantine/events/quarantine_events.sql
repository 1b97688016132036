-- rejected raw event rows, as landed, with the reason; incremental per landing day.
{{ config(
    unique_key='_landing_date',
    pre_hook="{{ delete_window('_landing_date', window_min_date(), window_max_date()) }}"
) }}

with

validated as (
    select * from {{ ref('base_events') }}
),

accepted as (
    select * from {{ ref('stg_events') }}
    where _landing_date >= {{ window_min_date() }}
      and _landing_date < {{ window_max_date() }}
),

reasoned as (
    -- every row of the window that stg_events did not accept: rejected by base_events, or (the
    -- complement of stg_events' anti-join) accepted on an earlier landing day of the dedup horizon
    select
        validated.*,
        coalesce(validated.reject_reason, 'duplicate_event_id') as final_reason
    from validated
    left join accepted
        on accepted._source_file = validated._source_file
        and accepted._row_number = validated._row_number
    where accepted._row_number is null
),

rejected as (
    select
        final_reason as reject_reason,
        event_id,
        user_id,
        event_name,
        {{ landed_text('event_time', '_ts') }} as event_time,
        {{ landed_text('received_at', '_ts') }} as received_at,
        properties,
        _landing_date,
        _source_file,
        _row_number,
        _load_error,
        _line_text
    from reasoned
)

select * from rejected
