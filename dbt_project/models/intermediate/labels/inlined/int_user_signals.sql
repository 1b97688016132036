-- the early-warning signals of each label day: the drops against the user's own baseline and the
-- ten signals (macro early_warning_signals), how many fired and which; a signal the feed cannot
-- support that day (int_signal_availability) never fires and does not count. Sparse like
-- int_user_rolling_activity, which it reads: a user without activity in D-89..D fires none.
-- Ephemeral (dbt_project.yml): a CTE of user_daily_labels, over the same label days.
with

rolling as (
    select * from {{ ref('int_user_rolling_activity') }}
    where label_date >= {{ lookback_start_date() }}
      and label_date < {{ window_max_date() }}
),

availability as (
    select * from {{ ref('int_signal_availability') }}
    where label_date >= {{ lookback_start_date() }}
      and label_date < {{ window_max_date() }}
),

drops as (
    -- drop = 1 - current / baseline, rounded so that an exact 30% compares as 0.3
    select
        rolling.*,
        {%- for name, rule, needs in early_warning_signals() %}
        coalesce(availability.signal_{{ name }}_available, false) as signal_{{ name }}_available,
        {%- endfor %}
        round(1 - logins_7d / nullif(logins_baseline_7d, 0), 6) as login_drop,
        round(1 - events_per_session_7d / nullif(events_per_session_baseline, 0), 6) as depth_drop,
        round(1 - spend_7d / nullif(spend_baseline_7d, 0), 6) as spend_drop,
        round(1 - core_feature_7d / nullif(core_feature_baseline_7d, 0), 6) as core_feature_drop
    from rolling
    left join availability on availability.label_date = rolling.label_date
),

signals as (
    select
        user_id,
        label_date,
        login_drop,
        depth_drop,
        spend_drop,
        core_feature_drop,
        {{ signal_columns() }}
    from drops
)

select
    cast(user_id as string) as user_id,
    cast(label_date as date) as label_date,
    cast(login_drop as double) as login_drop,
    cast(depth_drop as double) as depth_drop,
    cast(spend_drop as double) as spend_drop,
    cast(core_feature_drop as double) as core_feature_drop,
    {%- for name, rule, needs in early_warning_signals() %}
    signal_{{ name }},
    {%- endfor %}
    {{ signal_count() }} as signal_count,
    cast({{ signals_fired() }} as string) as signals_fired
from signals
