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
),

reasoned as (
    -- rows base_events rejected, and (the complement of stg_events' anti-join) rows accepted on an
    -- earlier landing day of the dedup horizon
    select *, reject_reason as final_reason from validated
    where reject_reason is not null
    union all
    select *, 'duplicate_event_id' as final_reason from validated
    where reject_reason is null
      and {{ accepted_copy_before_window('accepted', 'validated.clean_event_id', 'validated._landing_date') }}
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
