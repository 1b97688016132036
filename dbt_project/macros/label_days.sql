{#- The label days of a run, and the day arithmetic of the label models. The arithmetic is
    dispatched (`duckdb__` / `default__`), so another adapter (Spark) adds its own form without
    touching the models. -#}

{% macro label_days() -%}
    {#- One row per label day of the run: [min_date - lookback_days, max_date), clamped to the days
        with data, from the first signup to the last landing day (so that a plain `dbt build` does
        not label every day up to 2100). -#}
    select {{ day_series('bounds.first_label_date', 'bounds.end_label_date') }} as label_date
    from (
        select
            greatest(
                {{ lookback_start_date() }},
                (select min(signup_date) from {{ ref('stg_users') }})
            ) as first_label_date,
            least(
                {{ window_max_date() }},
                greatest(
                    (select max(_landing_date) from {{ ref('stg_events') }}
                     where _landing_date >= {{ lookback_start_date() }}),
                    (select max(_landing_date) from {{ ref('stg_users') }})
                ) + 1
            ) as end_label_date
    ) as bounds
{%- endmacro %}

{% macro days_between(start_date, end_date) -%}
    {#- Whole days from start_date to end_date (negative when end_date is earlier). -#}
    {{ return(adapter.dispatch('days_between')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    ({{ end_date }} - {{ start_date }})
{%- endmacro %}

{% macro day_series(start_date, end_date) -%}
    {#- A set-returning select expression: one row per day of [start_date, end_date). -#}
    {{ return(adapter.dispatch('day_series')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__day_series(start_date, end_date) -%}
    cast(unnest(range(
        cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day
    )) as date)
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}

{% macro spark__day_series(start_date, end_date) -%}
    {#- sequence() includes its end and counts down when start > end: guard the empty range -#}
    explode(case when {{ start_date }} < {{ end_date }}
        then sequence({{ start_date }}, date_sub({{ end_date }}, 1)) else array() end)
{%- endmacro %}
