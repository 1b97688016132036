{#- A daily run recomputes the days before its window that late events are dated (the lookback). Of the
    per-user models that read the events themselves, a user's rows on those days can only change if the
    user has a late event: every other user-day has the events the last run computed it from. So these
    models recompute the window's days for everyone, and a lookback day only for the users with a late
    event on or before it. (At 1M users, 4% and 8% of the users had a late event on the two lookback days.)
    int_user_rolling_activity, which also reads whether a user had signed up by the day, recomputes the
    lookback for the users whose profile landed in the window too (relabelled_users()).
    On Spark every user is recomputed from the lookback's first day: Delta's DELETE takes no join. -#}

{% macro late_users() -%}
    {#- Per user with a late event (an accepted event landed in the window, dated in the lookback): the day
        of the earliest, from which the user's rows are recomputed. -#}
    select user_id, min(event_date) as first_day
    from {{ ref('stg_events') }}
    where _landing_date >= {{ window_min_date() }} and _landing_date < {{ window_max_date() }}
      and event_date >= {{ lookback_start_date() }} and event_date < {{ window_min_date() }}
    group by user_id
{%- endmacro %}

{% macro relabelled_users() -%}
    {#- late_users(), and every user whose profile landed in the window from the lookback's first day: a new
        signup day moves the days the user is labelled on. -#}
    select user_id, min(first_day) as first_day
    from (
        {{ late_users() }}
        union all
        select user_id, {{ lookback_start_date() }} as first_day
        from {{ ref('stg_users') }}
        where _landing_date >= {{ window_min_date() }} and _landing_date < {{ window_max_date() }}
    ) as changed
    group by user_id
{%- endmacro %}

{% macro recomputed_from(first_day) -%}
    {#- The first day recomputed for a user, given `first_day` of late_users() or relabelled_users() (null
        for a user not among them). A full build recomputes every day. -#}
    {%- if is_incremental() -%}
        {{ return(adapter.dispatch('recomputed_from')(first_day)) }}
    {%- else -%}
        {{ return(lookback_start_date()) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__recomputed_from(first_day) -%}
    coalesce({{ first_day }}, {{ window_min_date() }})
{%- endmacro %}

{% macro spark__recomputed_from(first_day) -%}
    {{ lookback_start_date() }}
{%- endmacro %}

{% macro delete_late_users(day_column, users='late_users') -%}
    {#- Pre-hook (after delete_window has cleared the window's days): clear the lookback days recomputed for
        `users`, the name of the macro that selects them (late_users or relabelled_users). -#}
    {{ return(adapter.dispatch('delete_late_users')(day_column, users)) }}
{%- endmacro %}

{% macro default__delete_late_users(day_column, users) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} using ({{ relabelled_users() if users == 'relabelled_users' else late_users() }}) as late
        where {{ this.identifier }}.user_id = late.user_id
          and {{ day_column }} >= late.first_day and {{ day_column }} < {{ window_min_date() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro spark__delete_late_users(day_column, users) -%}
    {{ delete_window(day_column, lookback_start_date(), window_min_date()) }}
{%- endmacro %}
