-- rejected raw event rows, as landed, with the reason; incremental per landing day.
{{ config(
    unique_key='_landing_date',
    pre_hook="{{ delete_window('_landing_date', window_min_date(), window_max_date()) }}"
) }}

with

validated as (
    select * from {{ ref('base_events') }}
    where reject_reason is not null
),

rejected as (
    select
        reject_reason,
        event_id,
        user_id,
        event_name,
        event_time,
        received_at,
        properties,
        _landing_date,
        _source_file,
        _row_number
    from validated
)

select * from rejected
