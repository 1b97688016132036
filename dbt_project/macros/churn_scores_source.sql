{#- user_churn_scores is written by a Python asset (orchestration/scoring) between user_daily_labels
    and user_risk_tiers; its columns are documented in orchestration/warehouse/tables.py (a test keeps
    this statement equal to them). Creating it empty when it is missing lets user_risk_tiers left join
    it on a first run, in a plain `dbt build`, and in unit tests: no scores means the rules apply.
    Spark has no `varchar` without a length: its statement says `string` and names the file format. -#}
{% macro create_churn_scores_if_missing() -%}
    {%- set statement -%}
    create table if not exists {{ target.schema }}.user_churn_scores (
        user_id varchar,
        score_date date,
        churn_probability double,
        horizon_days integer,
        model_version varchar,
        scored_by varchar,
        score_reason varchar,
        inputs_hash bigint
    )
    {%- endset -%}
    {{ return(adapter.dispatch('churn_scores_ddl')(statement)) }}
{%- endmacro %}

{% macro default__churn_scores_ddl(statement) -%}
    {{ statement }}
{%- endmacro %}

{% macro spark__churn_scores_ddl(statement) -%}
    {{ statement | replace(' varchar', ' string') }} using {{ var('spark_file_format', 'parquet') }}
{%- endmacro %}
