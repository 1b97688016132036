{#- Parsing helpers for raw VARCHAR columns: text to UTC timestamp, boolean, business day. -#}

{% macro parse_utc_timestamp(expr) -%}
    {#- Accepts ISO text with or without an offset; naive text is read as UTC. Null if unparseable. -#}
    {{ return(adapter.dispatch('parse_utc_timestamp')(expr)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(expr) -%}
    timezone('UTC', try_cast(nullif(trim({{ expr }}), '') as timestamptz))
{%- endmacro %}

{% macro spark__parse_utc_timestamp(expr) -%}
    {#- Spark's timestamp is an instant shown in the session time zone, UTC (set_session_time_zone) -#}
    try_cast(nullif(trim({{ expr }}), '') as timestamp)
{%- endmacro %}

{% macro parse_boolean(expr) -%}
    case lower(trim({{ expr }}))
        when 'true' then true when 't' then true when '1' then true when 'yes' then true
        when 'false' then false when 'f' then false when '0' then false when 'no' then false
    end
{%- endmacro %}

{% macro business_date(utc_ts) -%}
    {#- The business day of a UTC timestamp, in the configured business timezone (UTC needs no
        time zone conversion, the costliest part on millions of rows). -#}
    {%- if var("business_timezone") == "UTC" -%}
    cast({{ utc_ts }} as date)
    {%- else -%}
    {{ adapter.dispatch('local_date')(utc_ts, var("business_timezone")) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__local_date(utc_ts, time_zone) -%}
    cast(timezone('{{ time_zone }}', timezone('UTC', {{ utc_ts }})) as date)
{%- endmacro %}

{% macro spark__local_date(utc_ts, time_zone) -%}
    cast(from_utc_timestamp({{ utc_ts }}, '{{ time_zone }}') as date)
{%- endmacro %}

{% macro thresholds_reached(expr, thresholds, op='>=') -%}
    {#- Number of thresholds t with `expr op t` (0 when expr is null). -#}
    ({% for t in thresholds %}(case when {{ expr }} {{ op }} {{ t }} then 1 else 0 end){% if not loop.last %} + {% endif %}{% endfor %})
{%- endmacro %}

{% macro quoted_list(values) -%}
    {#- A list var as SQL string literals for `in (...)`; a never-matching null for an empty list. -#}
    {%- if values | length == 0 -%}null{%- else -%}
    {%- for v in values %}'{{ v | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    {%- endif -%}
{%- endmacro %}
