{#- The users feed and the delivery log, staged per landing window. A row's check can depend on the
    feed's other rows (a new profile version supersedes a user's older rows and ends their last
    version; the first copy of a touch_id wins; a touch's user may land later), so each run checks
    again every row of the keys a row landed in the window for (now, or before a landing day was
    loaded again) and replaces theirs alone. The base model stamps the rows it wrote with the dbt
    invocation (`_staged_by`); the models after it replace the rows of the keys stamped. A full build
    (no table yet, or --full-refresh) checks every row, and so does every run on Spark, as the tables
    rebuilt whole did (Delta's DELETE takes no NOT IN subquery inside an OR). -#}

{% macro restages_by_key() -%}
    {#- Whether this run restages the keys landed in the window only (an incremental run on DuckDB). -#}
    {{ return(is_incremental() and target.type != 'spark') }}
{%- endmacro %}

{% macro restaged_ids(base, id_column) -%}
    {#- the keys whose rows `base` wrote in this dbt invocation, and (a model run without its base) those
        with a row landed in the window -#}
    select {{ id_column }} from {{ ref(base) }}
    where {{ id_column }} is not null
      and (_staged_by = '{{ invocation_id }}' or ({{ window_landed() }}))
{%- endmacro %}

{% macro restaged(base, id_column, key=none, landed_rows=false) -%}
    {#- Filter of the models after a base model: `key` (`id_column` by default) is a key `base` restaged, or
        with `landed_rows` the row landed in the window (rows without a key); `true` when every key is. -#}
    {%- if restages_by_key() -%}
        ({{ key or id_column }} in ({{ restaged_ids(base, id_column) }})
         {%- if landed_rows %} or ({{ window_landed() }}){% endif %})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro drop_replaced_rows(id_column) -%}
    {#- post-hook of a base model: the rows this invocation wrote replace the older rows of the same keys,
        and every older row landed in the window (a landing day loaded again may have lost rows); on Spark,
        every older row (every key was restaged) -#}
    {%- if restages_by_key() -%}
        delete from {{ this }}
        where _staged_by is distinct from '{{ invocation_id }}'
          and (({{ window_landed() }})
               or {{ id_column }} in (select {{ id_column }} from {{ this }} where _staged_by = '{{ invocation_id }}'))
    {%- elif is_incremental() -%}
        delete from {{ this }} where not (_staged_by <=> '{{ invocation_id }}')
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro delete_restaged(base, id_column, key, landed_key=false) -%}
    {#- pre-hook of the models after a base model: clear the rows of the keys restaged and of keys the base
        no longer has (their only landing day was loaded again without them). With `landed_key` (the key as
        landed, as the quarantine models keep it), its trimmed value is compared, and the rows landed in the
        window go too (rows without a key). On Spark every row goes: every key is restaged. -#}
    {%- if restages_by_key() -%}
        {%- set key = "nullif(trim(" ~ key ~ "), '')" if landed_key else key %}
        delete from {{ this }}
        where {{ key }} in ({{ restaged_ids(base, id_column) }})
           or {{ key }} not in (select {{ id_column }} from {{ ref(base) }} where {{ id_column }} is not null)
           {%- if landed_key %} or ({{ window_landed() }}){% endif %}
    {%- elif is_incremental() -%}
        delete from {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
