{#- The SQL that differs between DuckDB (the default warehouse) and Apache Spark (dbt-spark), each
    written once behind adapter.dispatch: the models call these macros and run unchanged on both.
    `duckdb__` / `default__` is the DuckDB form; `spark__` the Spark SQL form. Day arithmetic lives
    in label_days.sql, text parsing in parsing.sql. -#}

{% macro is_finite(expr) -%}
    {#- A number that is neither NaN nor infinite (null stays null). -#}
    {{ return(adapter.dispatch('is_finite')(expr)) }}
{%- endmacro %}

{% macro default__is_finite(expr) -%}
    isfinite({{ expr }})
{%- endmacro %}

{% macro spark__is_finite(expr) -%}
    (not isnan({{ expr }}) and abs({{ expr }}) <> double('infinity'))
{%- endmacro %}

{% macro full_match(expr, pattern) -%}
    {#- `expr` matches the regular expression `pattern` as a whole (RE2 on DuckDB, Java on Spark:
        the patterns used here mean the same in both). -#}
    {{ return(adapter.dispatch('full_match')(expr, pattern)) }}
{%- endmacro %}

{% macro default__full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern | replace("'", "''") }}')
{%- endmacro %}

{% macro spark__full_match(expr, pattern) -%}
    {#- anchored with \z, not $: Java's $ also matches before a final line break -#}
    ({{ expr }} rlike '^(?:{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }})\\z')
{%- endmacro %}

{% macro is_json_object(expr) -%}
    {#- The text is valid JSON and its top level is an object. -#}
    {{ return(adapter.dispatch('is_json_object')(expr)) }}
{%- endmacro %}

{% macro default__is_json_object(expr) -%}
    -- case, not and: json_type must never see invalid text
    case when json_valid({{ expr }}) then json_type({{ expr }}) = 'OBJECT' else false end
{%- endmacro %}

{% macro spark__is_json_object(expr) -%}
    -- json_object_keys is null for invalid JSON and for any top level but an object
    coalesce(json_object_keys({{ expr }}) is not null, false)
{%- endmacro %}

{% macro json_strings(expr, paths) -%}
    {#- The values at the JSON `paths` of `expr` as a list of text (null where absent), parsed once
        where the engine can; read them with list_item(list, n), n from 1. -#}
    {{ return(adapter.dispatch('json_strings')(expr, paths)) }}
{%- endmacro %}

{% macro default__json_strings(expr, paths) -%}
    json_extract_string({{ expr }}, [{% for p in paths %}'{{ p }}'{% if not loop.last %}, {% endif %}{% endfor %}])
{%- endmacro %}

{% macro spark__json_strings(expr, paths) -%}
    array({% for p in paths %}get_json_object({{ expr }}, '{{ p }}'){% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro list_item(list, n) -%}
    {#- The n-th item of a list (n from 1). -#}
    {{ return(adapter.dispatch('list_item')(list, n)) }}
{%- endmacro %}

{% macro default__list_item(list, n) -%}
    {{ list }}[{{ n }}]
{%- endmacro %}

{% macro spark__list_item(list, n) -%}
    element_at({{ list }}, {{ n }})
{%- endmacro %}

{% macro ordering_key(exprs) -%}
    {#- A value ordered by `exprs` in turn (a struct), for max_by / min_by with tie-breakers. -#}
    {{ return(adapter.dispatch('ordering_key')(exprs)) }}
{%- endmacro %}

{% macro default__ordering_key(exprs) -%}
    row({{ exprs | join(', ') }})
{%- endmacro %}

{% macro spark__ordering_key(exprs) -%}
    struct({{ exprs | join(', ') }})
{%- endmacro %}

{% macro as_json(expr) -%}
    {#- JSON text as the engine's JSON type (DuckDB's JSON; Spark keeps JSON as text). -#}
    {{ return(adapter.dispatch('as_json')(expr)) }}
{%- endmacro %}

{% macro default__as_json(expr) -%}
    cast({{ expr }} as json)
{%- endmacro %}

{% macro spark__as_json(expr) -%}
    {{ expr }}
{%- endmacro %}

{% macro set_session_time_zone() -%}
    {#- on-run-start: timestamps are UTC. The DuckDB profile sets it; a Spark session is told here,
        since text without an offset is read in the session's time zone. -#}
    {{ return(adapter.dispatch('set_session_time_zone')()) }}
{%- endmacro %}

{% macro default__set_session_time_zone() -%}
    select 1
{%- endmacro %}

{% macro spark__set_session_time_zone() -%}
    set time zone 'UTC'
{%- endmacro %}

{% macro not_materialized() -%}
    {#- A CTE that the queries after it read several times, each with its own filter, inlined in each of them:
        DuckDB would otherwise copy every row and column of it first (a data test over the window's 4.6 M events at
        1M users: 0.54 s inlined, 0.77 s copied). Spark has no such hint and inlines anyway. -#}
    {{ return(adapter.dispatch('not_materialized')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro spark__not_materialized() -%}
{%- endmacro %}
