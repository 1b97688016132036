{#- The users feed, staged per landing window: a new profile version can supersede a user's older rows
    and end their last version, so each run checks again every row of the users who have a row landed
    in the window (now, or before a landing day was loaded again) and replaces theirs alone. base_users
    stamps the rows it wrote with the dbt invocation; the models after it replace the rows of those
    users. A full build (no table yet, or --full-refresh) checks every row. -#}

{% macro window_landed(column='_landing_date') -%}
    {{ column }} >= {{ window_min_date() }} and {{ column }} < {{ window_max_date() }}
{%- endmacro %}

{% macro restaged_user_ids() -%}
    {#- the users whose rows base_users wrote in this dbt invocation, and (a model run without base_users)
        those with a row landed in the window -#}
    select clean_user_id from {{ ref('base_users') }}
    where clean_user_id is not null
      and (_staged_by = '{{ invocation_id }}' or ({{ window_landed() }}))
{%- endmacro %}

{% macro drop_replaced_base_users() -%}
    {#- post-hook of base_users: the rows this invocation wrote replace the older rows of the same users, and
        every older row landed in the window (a landing day loaded again may have lost rows) -#}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where _staged_by is distinct from '{{ invocation_id }}'
          and (({{ window_landed() }})
               or clean_user_id in (select clean_user_id from {{ this }} where _staged_by = '{{ invocation_id }}'))
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro delete_restaged_users(landed_ids=false) -%}
    {#- pre-hook of the models after base_users: clear the rows of the users restaged and of users base_users
        no longer has (their only landing day was loaded again without them). With `landed_ids` (user_id as
        landed, as in quarantine_users), its trimmed value is compared, and the rows landed in the window go
        too (rows without a user id). -#}
    {%- if is_incremental() -%}
        {%- set user_id = "nullif(trim(user_id), '')" if landed_ids else "user_id" %}
        delete from {{ this }}
        where {{ user_id }} in ({{ restaged_user_ids() }})
           or {{ user_id }} not in (select clean_user_id from {{ ref('base_users') }} where clean_user_id is not null)
           {%- if landed_ids %} or ({{ window_landed() }}){% endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
