{#- Reading raw columns as landed: a typed Parquet value lands in `<name>_ts` / `_bool` / `_num`, a
    text value (CSV, JSON lines, an unexpected Parquet type) in `<name>`; exactly one is set. These
    macros give the typed value either way, tell a present-but-unparseable text apart from a missing
    value, and render the landed value as text for quarantine rows. Input bounds are dbt vars
    (orchestration/config/input_bounds.py passes the settings' values). -#}

{% macro landed_timestamp(name) -%}
    coalesce({{ name }}_ts, {{ parse_utc_timestamp(name) }})
{%- endmacro %}

{% macro landed_number(name) -%}
    coalesce({{ name }}_num, try_cast(nullif(trim({{ name }}), '') as double))
{%- endmacro %}

{% macro landed_boolean(name) -%}
    coalesce({{ name }}_bool, {{ parse_boolean(name) }})
{%- endmacro %}

{% macro landed_text(name, typed_suffix=none) -%}
    {#- The value as landed, as text (typed values rendered), for quarantine rows. -#}
    {%- if typed_suffix -%}
    coalesce({{ name }}, cast({{ name }}{{ typed_suffix }} as string))
    {%- else -%}
    {{ name }}
    {%- endif -%}
{%- endmacro %}

{% macro has_text(name) -%}
    {#- The text column carries something (so a null parse means unparseable, not missing). -#}
    (nullif(trim({{ name }}), '') is not null)
{%- endmacro %}

{% macro is_valid_id(expr) -%}
    {#- An identifier within the configured length and characters (no spaces, control characters or NUL). -#}
    (length({{ expr }}) <= {{ var('id_max_length') | int }}
     and {{ full_match(expr, var("id_pattern")) }})
{%- endmacro %}

{% macro id_reason(expr, name) -%}
    {#- 'missing_<name>' / 'invalid_<name>' for an identifier, null when it is fine. -#}
    case when {{ expr }} is null then 'missing_{{ name }}'
         when not {{ is_valid_id(expr) }} then 'invalid_{{ name }}' end
{%- endmacro %}

{% macro arrival_ceiling(landing_date) -%}
    {#- Nothing in a landing folder can have happened after the folder's day ended, give or take the
        allowed clock skew. -#}
    {{ dbt.dateadd('minute', var('max_clock_skew_minutes') | int, dbt.dateadd('day', 1, 'cast(' ~ landing_date ~ ' as timestamp)')) }}
{%- endmacro %}

{% macro skewed(ts, sign='+') -%}
    {{ dbt.dateadd('minute', (sign ~ (var('max_clock_skew_minutes') | int | string)), ts) }}
{%- endmacro %}
