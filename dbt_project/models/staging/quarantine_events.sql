-- rejected raw event rows, as landed, with the reason; incremental per landing day.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='_landing_date',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_window('_landing_date', window_min_date(), window_max_date()) }}"
) }}

with

validated as (
    select * from {{ ref('stg_events__validated') }}
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
