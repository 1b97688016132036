-- the running state of every user signed up by each label day: the last active day, the last
-- key-action day, how many key-action days so far and the first, the last comeback and the last
-- session's run of sessions without a core feature, with the silences they imply (silence counts
-- days without a key action; activity silence days without any event) and the user's usual gap
-- between key actions. Dense: one row per (user_id, label_date). Incremental over
-- [min_date - lookback_days, max_date): the state is carried from this model's row of the day
-- before the window, so a day costs the users and the window's active days, never the history.
{{ config(
    unique_key=['user_id', 'label_date'],
    pre_hook="{{ delete_window('label_date', lookback_start_date(), window_max_date()) }}"
) }}

{#- Decided at compile time: carry the day before the window when this model holds it; otherwise
    (first run, full refresh, a gap, or rows written before key_action_days existed) start from every
    active day of the history. -#}
{%- set carry_previous_day = is_incremental()
    and relation_has_rows_on(this, 'label_date', lookback_start_date() ~ ' - 1', 'key_action_days') -%}

with

users as (
    select user_id, signup_date from {{ ref('stg_users') }}
),

activity as (
    select user_id, activity_date, key_actions from {{ ref('int_user_daily_activity') }}
    where activity_date < {{ window_max_date() }}
    {%- if carry_previous_day %}
      and activity_date >= {{ lookback_start_date() }}
    {%- endif %}
),

streaks as (
    select user_id, activity_date, no_core_session_streak from {{ ref('int_user_session_streaks') }}
    where activity_date < {{ window_max_date() }}
    {%- if carry_previous_day %}
      and activity_date >= {{ lookback_start_date() }}
    {%- endif %}
),

label_days as (
    {{ label_days() }}
),

previous_day as (
    {%- if carry_previous_day %}
    select
        user_id, label_date, last_active_date, last_key_action_date, last_reactivated_date,
        last_session_date, no_core_session_streak, key_action_days, first_key_action_date
    from {{ this }}
    where label_date = {{ lookback_start_date() }} - 1
    {%- else %}
    select
        user_id, label_date, last_active_date, last_key_action_date, last_reactivated_date,
        last_session_date, no_core_session_streak, key_action_days, first_key_action_date
    from (
        select
            cast(null as string) as user_id, cast(null as date) as label_date,
            cast(null as date) as last_active_date, cast(null as date) as last_key_action_date,
            cast(null as date) as last_reactivated_date, cast(null as date) as last_session_date,
            cast(null as integer) as no_core_session_streak, cast(null as integer) as key_action_days,
            cast(null as date) as first_key_action_date
    ) as nothing_carried
    where false
    {%- endif %}
),

state_changes as (
    -- the carried state, then each active day up to the last label day with the dates it sets
    select
        user_id, label_date as state_date, last_active_date, last_key_action_date, last_reactivated_date,
        last_session_date as session_date, no_core_session_streak as session_streak, false as is_active_day,
        key_action_days, first_key_action_date
    from previous_day
    union all
    select
        activity.user_id,
        activity.activity_date,
        activity.activity_date,
        case when activity.key_actions > 0 then activity.activity_date end,
        cast(null as date),
        streaks.activity_date,
        streaks.no_core_session_streak,
        true,
        case when activity.key_actions > 0 then 1 else 0 end,
        case when activity.key_actions > 0 then activity.activity_date end
    from activity
    left join streaks
        on streaks.user_id = activity.user_id
        and streaks.activity_date = activity.activity_date
    where activity.activity_date <= (select max(label_date) from label_days)
),

silences as (
    -- before each active day: the previous key-action day (the gap a key action closes runs from
    -- it) and the silence it ends, since that day or, for a first key action, since signup
    select
        state_changes.*,
        max(state_changes.last_key_action_date) over before_this as previous_key_action_date,
        coalesce(max(state_changes.last_key_action_date) over before_this, users.signup_date)
            as silence_start_date
    from state_changes
    inner join users on users.user_id = state_changes.user_id
    window before_this as (
        partition by state_changes.user_id order by state_changes.state_date
        rows between unbounded preceding and 1 preceding
    )
),

states as (
    -- the running dates as of each change, in force until the user's next change. A comeback is
    -- a key action after at least var `stage_churned_days` days without one the day before.
    select
        user_id,
        state_date,
        lead(state_date) over (partition by user_id order by state_date) as next_state_date,
        max(last_active_date) over running as last_active_date,
        max(last_key_action_date) over running as last_key_action_date,
        max(case
            when is_active_day and last_key_action_date is not null
                and {{ days_between('silence_start_date', 'state_date') }} - 1 >= {{ var('stage_churned_days') }}
                then state_date
            else last_reactivated_date
        end) over running as last_reactivated_date,
        sum(key_action_days) over running as key_action_days,
        min(first_key_action_date) over running as first_key_action_date,
        -- the gap this change closes: a key action after an earlier one (read on its own day only)
        case
            when is_active_day and last_key_action_date is not null
                then {{ days_between('previous_key_action_date', 'state_date') }}
        end as key_action_gap_days,
        max(session_date) over running as last_session_date,
        max_by(session_streak, session_date) over running as session_streak
    from silences
    window running as (partition by user_id order by state_date rows between unbounded preceding and current row)
),

daily_states as (
    select states.*, label_days.label_date
    from states
    inner join label_days
        on label_days.label_date >= states.state_date
        and label_days.label_date < coalesce(states.next_state_date, {{ window_max_date() }})
),

labelled as (
    -- every user signed up by the label day, with the state in force that day (none if never active)
    select
        users.user_id,
        label_days.label_date,
        users.signup_date,
        daily_states.last_active_date,
        daily_states.last_key_action_date,
        daily_states.last_reactivated_date,
        daily_states.last_session_date,
        coalesce(daily_states.key_action_days, 0) as key_action_days,
        daily_states.first_key_action_date,
        case when daily_states.state_date = label_days.label_date then daily_states.key_action_gap_days end
            as key_action_gap_days,
        -- the run of the last session counts for 90 days (D-89..D)
        case
            when {{ days_between('daily_states.last_session_date', 'label_days.label_date') }} < 90
                then daily_states.session_streak
            else 0
        end as no_core_session_streak,
        -- silence: days without a key action (churn is time x key action); activity silence: days
        -- without any event. Both count from signup until the first.
        coalesce(
            {{ days_between('daily_states.last_key_action_date', 'label_days.label_date') }},
            {{ days_between('users.signup_date', 'label_days.label_date') }}
        ) as silent_days,
        coalesce(
            {{ days_between('daily_states.last_active_date', 'label_days.label_date') }},
            {{ days_between('users.signup_date', 'label_days.label_date') }}
        ) as activity_silent_days
    from users
    inner join label_days on users.signup_date <= label_days.label_date
    left join daily_states
        on daily_states.user_id = users.user_id
        and daily_states.label_date = label_days.label_date
)

select
    cast(user_id as string) as user_id,
    cast(label_date as date) as label_date,
    cast(signup_date as date) as signup_date,
    cast({{ days_between('signup_date', 'label_date') }} as integer) as days_since_signup,
    cast(last_active_date as date) as last_active_date,
    cast({{ days_between('last_active_date', 'label_date') }} as integer) as days_since_last_active,
    cast(silent_days as integer) as silent_days,
    cast({{ thresholds_reached('silent_days', var('silence_grade_days')) }} as integer) as silence_grade,
    cast(last_key_action_date as date) as last_key_action_date,
    cast({{ days_between('last_key_action_date', 'label_date') }} as integer) as days_since_last_key_action,
    cast(last_reactivated_date as date) as last_reactivated_date,
    cast(last_session_date as date) as last_session_date,
    cast(no_core_session_streak as integer) as no_core_session_streak,
    cast(activity_silent_days as integer) as activity_silent_days,
    cast({{ thresholds_reached('activity_silent_days', var('silence_grade_days')) }} as integer)
        as activity_silence_grade,
    cast(key_action_days as integer) as key_action_days,
    cast(first_key_action_date as date) as first_key_action_date,
    cast(key_action_gap_days as integer) as key_action_gap_days,
    -- the user's usual gap: the span of its key-action days over the gaps between them, once it has
    -- var `rhythm_user_min_gaps` gaps
    cast(case when key_action_days - 1 >= {{ var('rhythm_user_min_gaps') }} then round(
        {{ days_between('first_key_action_date', 'last_key_action_date') }} / (key_action_days - 1.0), 6
    ) end as double) as usual_key_action_gap_days
from labelled
{{ in_day_order('label_date') }}
