{#- Processing-window helpers: every incremental model reads the same half-open window of
    business days [min_date, max_date) from `--vars`, widened by lookback_days for late events. -#}

{% macro window_min_date() -%}
    cast('{{ var("min_date") }}' as date)
{%- endmacro %}

{% macro window_max_date() -%}
    cast('{{ var("max_date") }}' as date)
{%- endmacro %}

{% macro lookback_start_date() -%}
    (cast('{{ var("min_date") }}' as date) - {{ var("lookback_days") | int }})
{%- endmacro %}

{% macro window_day_count(with_lookback=true) -%}
    {#- The days of the window, with its lookback by default: the window's days as the run passed them (text, or a
        date when a YAML `--vars` left them unquoted). -#}
    {{ return((modules.datetime.date.fromisoformat(var('max_date') | string)
        - modules.datetime.date.fromisoformat(var('min_date') | string)).days
        + (var('lookback_days') | int if with_lookback else 0)) }}
{%- endmacro %}

{% macro in_day_order(day_column) -%}
    {{ return(adapter.dispatch('in_day_order')(day_column)) }}
{%- endmacro %}

{% macro default__in_day_order(day_column) -%}
{%- endmacro %}

{% macro duckdb__in_day_order(day_column) -%}
    {#- The rows of a run of several days (a backfill, a full build) appended in day order. DuckDB skips a row
        group whose smallest and largest day miss a read or a delete, and a backfill appended as its joins leave it
        spreads every day over every row group: after an 88-day backfill at 100,000 users each row group of the
        labels held 77 days on average, so each later read of a day (the churn scores, the recall plan, the BI
        snapshot) and each delete of a lookback day went through the whole backfill. A daily run's rows are
        appended as they come. -#}
    {%- if window_day_count(with_lookback=false) >= var('day_order_min_days') | int -%}
    order by {{ day_column }}
    {%- endif -%}
{%- endmacro %}

{% macro window_landed(column='_landing_date') -%}
    {#- The rows of the window's landing days (the staged feeds' window), as a predicate. -#}
    {{ column }} >= {{ window_min_date() }} and {{ column }} < {{ window_max_date() }}
{%- endmacro %}

{% macro delete_window(column, start_expr, end_expr) -%}
    {#- Pre-hook of every incremental model: clear the whole window first, then the window's rows are
        appended (keys that vanished from a re-processed window do not survive). -#}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} >= {{ start_expr }} and {{ column }} < {{ end_expr }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro relation_has_rows_on(relation, column, date_expr, filled_column=none) -%}
    {#- Compile-time probe (true only at execution): does `relation` hold rows for that day - with
        `filled_column` present and not null on them, when given (a column added by an upgrade is
        missing, or null on the rows written before it)? -#}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if filled_column -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if filled_column | lower not in names -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endif -%}
    {%- set result = run_query(
        "select count(*) from " ~ relation ~ " where " ~ column ~ " = " ~ date_expr
        ~ (" and " ~ filled_column ~ " is not null" if filled_column else "")
    ) -%}
    {{ return(result.columns[0].values()[0] > 0) }}
{%- endmacro %}

{% macro checks_max_date() -%}
    {#- The exclusive end of the days the data tests check with their lookback: the window's end, or for a chunk of a
        long range (`--vars` checks_max_date) the first day a later chunk rewrites, which that chunk checks. -#}
    cast('{{ var("checks_max_date", var("max_date")) }}' as date)
{%- endmacro %}

{% macro window_filter(window_column, lookback=true) -%}
    {#- `where` clause keeping the rows of the processing window (data tests): with its lookback days for the
        models that rewrite them (up to checks_max_date: each day checked once over a range's chunks), without for
        those that rewrite only the window (the landing-day models). -#}
    {%- if window_column -%}
    where {{ window_column }} >= {{ lookback_start_date() if lookback else window_min_date() }}
      and {{ window_column }} < {{ checks_max_date() if lookback else window_max_date() }}
    {%- endif -%}
{%- endmacro %}

{% macro clear_relation() -%}
    {#- Pre-hook of a work table that holds only the current window: empty it before the insert. -#}
    {%- if is_incremental() -%}
        delete from {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

