-- sessions per user and business day, and the run of consecutive sessions without a core feature
-- as of the end of each day. A session is the events from one session-category event (app_open,
-- login) to the next one or to the end of the business day. Incremental over event days
-- [min_date, max_date), and for a user with late events from the day of the earliest of them
-- (macros/late_users.sql): the run is carried in from this model's last row of the user's 90 days
-- before that, and a session more than 90 days after the previous one starts a fresh run, so a daily
-- run and a full build agree and a day costs only its window.
{{ config(
    unique_key=['user_id', 'activity_date'],
    pre_hook=[
        "{{ delete_window('activity_date', window_min_date(), window_max_date()) }}",
        "{{ delete_late_users('activity_date') }}",
    ]
) }}

with

late_users as (
    {{ late_users() }}
),

events as (
    -- only session starts and core-feature events shape a session's number and whether it used a
    -- core feature: the others are left out before the sort (about half the rows)
    select accepted.user_id, event_id, event_name, category, event_time, event_date
    from {{ ref('stg_events') }} as accepted
    left join late_users on late_users.user_id = accepted.user_id
    where event_date < {{ window_max_date() }}
    {% if is_incremental() %}
      and event_date >= {{ lookback_start_date() }}
      and event_date >= {{ recomputed_from('late_users.first_day') }}
    {% endif %}
      and (category = 'session' or event_name in ({{ quoted_list(var('core_feature_events')) }}))
),

numbered as (
    -- session number within the user's day: session events seen so far (0 = before the first)
    select
        events.*,
        sum(case when category = 'session' then 1 else 0 end) over (
            partition by user_id, event_date order by event_time, event_id
            rows between unbounded preceding and current row
        ) as session_no
    from events
),

days as (
    -- per user and day with a session: its sessions, those that used a core feature, and the last of those
    -- (the events before the day's first session belong to none)
    select
        user_id,
        event_date as activity_date,
        max(session_no) as sessions,
        count(distinct case when event_name in ({{ quoted_list(var('core_feature_events')) }}) then session_no end)
            as core_feature_sessions,
        max(case when event_name in ({{ quoted_list(var('core_feature_events')) }}) then session_no end)
            as last_core_session,
        false as is_carried,
        cast(0 as integer) as carried_streak
    from numbered
    where session_no > 0
    group by user_id, event_date
),

carried as (
    -- the run as of each user's last session day in the 90 days before the user's recomputed days
    {% if is_incremental() %}
    select
        user_id,
        max(activity_date) as activity_date,
        cast(0 as bigint) as sessions,
        cast(0 as bigint) as core_feature_sessions,
        cast(null as bigint) as last_core_session,
        true as is_carried,
        cast(max_by(no_core_session_streak, activity_date) as integer) as carried_streak
    from (
        select previous.*, {{ recomputed_from('late_users.first_day') }} as recomputed_from
        from {{ this }} as previous
        left join late_users on late_users.user_id = previous.user_id
        where previous.activity_date >= {{ lookback_start_date() }} - 90
          and previous.activity_date < {{ window_min_date() }}
    ) as kept
    where activity_date >= recomputed_from - 90
      and activity_date < recomputed_from
    group by user_id
    {% else %}
    select * from days where false
    {% endif %}
),

ordered as (
    -- a day with a core-feature session, or a day more than 90 days after the previous one, starts a new run
    -- (day by day: within a day, only the sessions after its last core-feature one count towards the run)
    select
        all_days.*,
        case
            when core_feature_sessions > 0 then 1
            when {{ days_between('lag(activity_date) over by_day', 'activity_date') }} > 90 then 1
            else 0
        end as starts_run
    from (select * from carried union all select * from days) as all_days
    window by_day as (partition by user_id order by activity_date, is_carried desc)
),

runs as (
    select
        ordered.*,
        sum(starts_run) over (
            partition by user_id order by activity_date, is_carried desc
            rows between unbounded preceding and current row
        ) as run_no
    from ordered
),

streaks as (
    select
        runs.*,
        sum(
            case
                when is_carried then carried_streak
                when core_feature_sessions > 0 then sessions - last_core_session
                else sessions
            end
        ) over (
            partition by user_id, run_no order by activity_date, is_carried desc
            rows between unbounded preceding and current row
        ) as no_core_session_streak
    from runs
)

select
    cast(user_id as string) as user_id,
    cast(activity_date as date) as activity_date,
    cast(sessions as integer) as sessions,
    cast(core_feature_sessions as integer) as core_feature_sessions,
    cast(no_core_session_streak as integer) as no_core_session_streak
from streaks
where not is_carried
{{ in_day_order('activity_date') }}
