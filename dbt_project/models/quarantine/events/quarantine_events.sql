-- rejected raw event rows, as landed, with the reason; incremental per landing day.
{{ config(
    unique_key='_landing_date',
    pre_hook="{{ delete_window('_landing_date', window_min_date(), window_max_date()) }}"
) }}

with

validated as (
    select * from {{ ref('base_events') }}
),

landed_files as (
    -- the window's files, numbered, so that the anti-join below keys on two integers: at 30 M rows (a
    -- 100,000-user backfill) its hash table of file paths outgrew DuckDB's memory limit and spilled
    select _source_file, row_number() over (order by _source_file) as file_number
    from (select distinct _source_file from {{ ref('base_events') }}) as files
),

accepted as (
    select landed_files.file_number, stg_events._row_number
    from {{ ref('stg_events') }} as stg_events
    join landed_files on landed_files._source_file = stg_events._source_file
    where stg_events._landing_date >= {{ window_min_date() }}
      and stg_events._landing_date < {{ window_max_date() }}
),

reasoned as (
    -- every row of the window that stg_events did not accept: rejected by base_events, or (the
    -- complement of stg_events' anti-join) accepted on an earlier landing day of the dedup horizon
    select
        validated.*,
        coalesce(validated.reject_reason, 'duplicate_event_id') as final_reason
    from validated
    left join landed_files on landed_files._source_file = validated._source_file
    left join accepted
        on accepted.file_number = landed_files.file_number
        and accepted._row_number = validated._row_number
    where accepted._row_number is null
),

rejected as (
    select
        final_reason as reject_reason,
        coalesce(landed_event_id, clean_event_id) as event_id,
        coalesce(landed_user_id, clean_user_id) as user_id,
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
