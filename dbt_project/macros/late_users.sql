{#- A daily run recomputes the days before its window that late events are dated (the lookback). Of the
    per-user models that read the events themselves, a user's rows on those days can only change if the
    user has a late event: every other user-day has the events the last run computed it from. So these
    models recompute a lookback day only for the users with a late event on or before it, and the window's
    days for everyone. (At 1M users, 4% and 8% of the users had a late event on the two lookback days.)
    On Spark every user is recomputed from the lookback's first day: Delta's DELETE takes no subquery. -#}

{% macro recomputed_from(user_id) -%}
    {#- The first day to recompute for `user_id` (an expression): the day of the user's earliest late
        event of this window, else the window's first day. A full build recomputes every day. -#}
    {%- if is_incremental() -%}
        {{ return(adapter.dispatch('recomputed_from')(user_id)) }}
    {%- else -%}
        {{ return(lookback_start_date()) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__recomputed_from(user_id) -%}
    coalesce((
        select min(late.event_date) from {{ ref('stg_events') }} as late
        where late.user_id = {{ user_id }}
          and late._landing_date >= {{ window_min_date() }} and late._landing_date < {{ window_max_date() }}
          and late.event_date >= {{ lookback_start_date() }} and late.event_date < {{ window_min_date() }}
    ), {{ window_min_date() }})
{%- endmacro %}

{% macro spark__recomputed_from(user_id) -%}
    {{ lookback_start_date() }}
{%- endmacro %}

{% macro delete_recomputed(day_column) -%}
    {#- Pre-hook of these models: clear the rows they recompute (delete_window's counterpart). -#}
    {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- if existing is not none and not flags.FULL_REFRESH -%}
        delete from {{ this }}
        where {{ day_column }} >= {{ lookback_start_date() }} and {{ day_column }} < {{ window_max_date() }}
          and {{ day_column }} >= {{ recomputed_from(this.identifier ~ '.user_id') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
