-- per landing day, every raw row is either accepted or quarantined (never dropped, never doubled)
{{ config(meta={"dagster": {"ref": {"name": "stg_events"}}}) }}
with

raw_counts as (
    select 'events' as feed, _landing_date, count(*) as raw_rows
    from {{ source('raw', 'raw_events') }} group by all
    union all
    select 'users', _landing_date, count(*) from {{ source('raw', 'raw_users') }} group by all
    union all
    select 'recall_touches', _landing_date, count(*) from {{ source('raw', 'raw_recall_touches') }} group by all
),

landed_counts as (
    select 'events' as feed, _landing_date, count(*) as landed_rows
    from (
        select _landing_date from {{ ref('stg_events') }}
        union all
        select _landing_date from {{ ref('quarantine_events') }}
    ) group by all
    union all
    select 'users', _landing_date, count(*)
    from (
        select _landing_date from {{ ref('stg_users') }}
        union all
        select _landing_date from {{ ref('quarantine_users') }}
    ) group by all
    union all
    select 'recall_touches', _landing_date, count(*)
    from (
        select _landing_date from {{ ref('stg_recall_touches') }}
        union all
        select _landing_date from {{ ref('quarantine_recall_touches') }}
    ) group by all
),

compared as (
    select
        coalesce(raw_counts.feed, landed_counts.feed) as feed,
        coalesce(raw_counts._landing_date, landed_counts._landing_date) as landing_date,
        coalesce(raw_counts.raw_rows, 0) as raw_rows,
        coalesce(landed_counts.landed_rows, 0) as landed_rows
    from raw_counts
    full outer join landed_counts
        on raw_counts.feed = landed_counts.feed
        and raw_counts._landing_date = landed_counts._landing_date
)

-- only days inside the processing window are checked: events outside it are not rebuilt by this run
select * from compared
where raw_rows <> landed_rows
  and landing_date >= {{ window_min_date() }}
  and landing_date < {{ window_max_date() }}
