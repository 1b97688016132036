{#- The 7-day, 30-day and baseline sums of int_user_rolling_activity, in one of two forms that give the same
    numbers. A short window (a daily run: its day and lookback days) joins each active day to the label days of
    the 35 days after it and sums per user and label day. A long one (a backfill, a full build) on DuckDB takes
    differences of running totals per user at D, D-7, D-30 and D-35 instead: the join grew with users x label days
    (8 M groups for 100,000 users over 88 days, spilled to disk under the run's memory limit: 87 s against 47 s).
    The totals are read with window frames over one sequence of active and label days (32-34 s for that range,
    against 41 s with an ASOF join per offset). Other adapters (Spark) keep the join (adapter.dispatch). Both forms
    read the CTEs `recency`, `recent_activity` (with each user's first recomputed day, `recomputed_from`) and
    `label_days` of the model. -#}

{% macro rolling_sum_measures() -%}
{#- (measure, column of recent_activity, frame): last_7 = days_ago 0-6, last_30 = 0-29, baseline = 7-34. -#}
{{ return([
    ('logins_7d', 'sessions', 'last_7'),
    ('events_7d', 'events', 'last_7'),
    ('revenue_7d', 'revenue', 'last_7'),
    ('core_feature_7d', 'core_feature_events', 'last_7'),
    ('social_events_7d', 'social_events', 'last_7'),
    ('device_changes_7d', 'device_changes', 'last_7'),
    ('withdrawals_7d', 'withdrawals', 'last_7'),
    ('investments_7d', 'investments', 'last_7'),
    ('active_days_30d', 'active_day', 'last_30'),
    ('orders_30d', 'orders', 'last_30'),
    ('revenue_30d', 'revenue', 'last_30'),
    ('social_events_30d', 'social_events', 'last_30'),
    ('device_changes_30d', 'device_changes', 'last_30'),
    ('withdrawals_30d', 'withdrawals', 'last_30'),
    ('sessions_baseline_28d', 'sessions', 'baseline'),
    ('events_baseline_28d', 'events', 'baseline'),
    ('revenue_baseline_28d', 'revenue', 'baseline'),
    ('core_feature_baseline_28d', 'core_feature_events', 'baseline'),
    ('social_events_baseline_28d', 'social_events', 'baseline'),
]) }}
{%- endmacro %}

{% macro rolling_sums() -%}
    {{ return(adapter.dispatch('rolling_sums')()) }}
{%- endmacro %}

{% macro default__rolling_sums() -%}
    {{ rolling_sums_by_join() }}
{%- endmacro %}

{% macro duckdb__rolling_sums() -%}
    {%- if window_day_count() > var('rolling_join_max_days') | int -%}
        {{ rolling_sums_by_running_totals() }}
    {%- else -%}
        {{ rolling_sums_by_join() }}
    {%- endif -%}
{%- endmacro %}

{% macro rolling_sums_by_join() -%}
recent_frames as (
    -- each label day with the active days of its last 35 days, and how many days before it they are
    select
        label_days.label_date,
        {{ days_between('recent_activity.activity_date', 'label_days.label_date') }} as days_ago,
        recent_activity.*
    from recent_activity
    inner join label_days
        on recent_activity.activity_date <= label_days.label_date
        and recent_activity.activity_date > label_days.label_date - 35
        and label_days.label_date >= recent_activity.recomputed_from
),

recent as (
    -- one pass per user and label day; sums of a case rather than filter clauses: the same
    -- meaning, and DuckDB evaluates them about a third faster
    select
        user_id,
        label_date,
        {%- for name, column, frame in rolling_sum_measures() %}
        {%- set days = {'last_7': 'days_ago < 7', 'last_30': 'days_ago < 30', 'baseline': 'days_ago >= 7'}[frame] %}
        sum(case when {{ days }} then {{ column }} else 0 end) as {{ name }},
        {%- endfor %}
        max(case when days_ago < 7 then max_withdrawal_amount end) as max_withdrawal_7d
    from recent_frames
    group by user_id, label_date
)
{%- endmacro %}

{% macro rolling_sums_by_running_totals() -%}
{%- set columns = rolling_sum_measures() | map(attribute=1) | unique | list -%}
timeline as (
    -- per user, the active days and the label days in one sequence (amounts as exact decimals: a difference of two
    -- float totals may not round as the direct sum does)
    select
        user_id,
        activity_date as day,
        false as is_label_day,
        {%- for column in columns %}
        {{ 'cast(revenue as decimal(38, 6))' if column == 'revenue' else column }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from recent_activity
    union all
    select user_id, label_date, true{% for column in columns %}, null{% endfor %}
    from recency
),

running_totals as (
    -- the totals of every column up to each row: a label day after the active day of the same date
    select
        user_id,
        day,
        is_label_day,
        { {%- for column in columns %}'{{ column }}': sum({{ column }}) over by_day{{ ', ' if not loop.last }}{% endfor -%} }
            as totals
    from timeline
    window by_day as (partition by user_id order by day, is_label_day rows between unbounded preceding and current row)
),

frame_edges as (
    -- each day's totals, and the totals of the last row 7, 30 and 35 days or more before it (null: none)
    select
        user_id,
        day as label_date,
        is_label_day,
        totals as at_0,
        last_value(totals) over before_7 as at_7,
        last_value(totals) over before_30 as at_30,
        last_value(totals) over before_35 as at_35
    from running_totals
    window
        before_7 as (partition by user_id order by day range between unbounded preceding and interval 7 day preceding),
        before_30 as (partition by user_id order by day range between unbounded preceding and interval 30 day preceding),
        before_35 as (partition by user_id order by day range between unbounded preceding and interval 35 day preceding)
),

withdrawal_peaks as (
    -- the largest withdrawal of the last 7 days, from the few days with one
    select
        recent_activity.user_id,
        label_days.label_date,
        max(recent_activity.max_withdrawal_amount) as max_withdrawal_7d
    from recent_activity
    inner join label_days
        on recent_activity.activity_date <= label_days.label_date
        and recent_activity.activity_date > label_days.label_date - 7
    where recent_activity.max_withdrawal_amount is not null
    group by 1, 2
),

recent as (
    -- each frame's sum is the difference of the totals at its last day and the day before its first
    select
        frame_edges.user_id,
        frame_edges.label_date,
        {%- for name, column, frame in rolling_sum_measures() %}
        {%- set upper, lower = {'last_7': ('at_0', 'at_7'), 'last_30': ('at_0', 'at_30'),
                                'baseline': ('at_7', 'at_35')}[frame] %}
        coalesce({{ upper }}.{{ column }}, 0) - coalesce({{ lower }}.{{ column }}, 0) as {{ name }},
        {%- endfor %}
        withdrawal_peaks.max_withdrawal_7d
    from frame_edges
    left join withdrawal_peaks
        on withdrawal_peaks.user_id = frame_edges.user_id and withdrawal_peaks.label_date = frame_edges.label_date
    where frame_edges.is_label_day
)
{%- endmacro %}
