{#- Generic test: per landing day, every raw row of the feed is either accepted (the model) or
    quarantined, never dropped and never doubled. `windowed` models are rebuilt per processing
    window only, so only the window's landing days are compared; the others, every landing day
    before the window's end (a long range runs in chunks: the days after a chunk are loaded, not
    yet staged). -#}
{% test accounts_for_every_raw_row(model, raw, quarantine, windowed=false) %}
{#- the window's landing days are kept before counting (filtering the comparison would count the whole feed) -#}
{%- set landing_days = window_filter('_landing_date', lookback=false) if windowed
    else 'where _landing_date < ' ~ window_max_date() %}

with

raw_counts as (
    select _landing_date, count(*) as raw_rows from {{ raw }} {{ landing_days }} group by all
),

landed_counts as (
    select _landing_date, count(*) as landed_rows
    from (
        select _landing_date from {{ model }} {{ landing_days }}
        union all
        select _landing_date from {{ quarantine }} {{ landing_days }}
    ) as landed
    group by all
),

compared as (
    select
        coalesce(raw_counts._landing_date, landed_counts._landing_date) as landing_date,
        coalesce(raw_counts.raw_rows, 0) as raw_rows,
        coalesce(landed_counts.landed_rows, 0) as landed_rows
    from raw_counts
    full outer join landed_counts on raw_counts._landing_date = landed_counts._landing_date
)

select * from compared
where raw_rows <> landed_rows

{% endtest %}
