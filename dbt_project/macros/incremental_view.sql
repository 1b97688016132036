{#- dbt-duckdb's incremental materialization writes a model's new rows into a temporary table, then
    copies that table into the model. With the append strategy (the project's) the copy reads the
    temporary relation once, so a temporary view gives the same rows without writing them twice: at 1M
    users the daily dbt set used about a tenth less CPU (docs/performance.md). Every other relation
    (tables, full refreshes, other strategies, Python models) is built by dbt-duckdb's own macro. -#}

{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if temporary and language == 'sql' and config.get('incremental_strategy') == 'append' -%}
        create or replace temporary view {{ relation.include(database=False, schema=False) }} as (
            {{ compiled_code }}
        )
    {%- else -%}
        {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- endif -%}
{%- endmacro %}
