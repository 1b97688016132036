-- which early-warning signals the feed can support on each label day D: a signal is available when
-- every kind of event it needs (macro early_warning_signals) appeared in the feed in the last var
-- `signal_availability_days` days (D-N+1..D, only history up to D). An orders-only feed, or one
-- without browsing or social events, gets those signals switched off (signals_unavailable, also a
-- warning check) instead of firing on missing data. One row per label day; incremental over
-- [min_date - lookback_days, max_date).
{{ config(
    unique_key=['label_date'],
    pre_hook="{{ delete_window('label_date', lookback_start_date(), window_max_date()) }}"
) }}

{%- set measures = ['sessions', 'core_feature_events', 'social_events', 'device_changes', 'purchases',
                    'withdrawals', 'balance_reports'] %}

with

label_days as (
    {{ label_days() }}
),

feed as (
    select * from {{ ref('int_feed_daily_counts') }}
    where activity_date > {{ lookback_start_date() }} - {{ var('signal_availability_days') | int }}
      and activity_date < {{ window_max_date() }}
),

seen as (
    -- each label day's events of its trailing window
    select
        label_days.label_date,
        {%- for measure in measures %}
        coalesce(sum(feed.{{ measure }}), 0) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from label_days
    left join feed
        on feed.activity_date <= label_days.label_date
        and feed.activity_date > label_days.label_date - {{ var('signal_availability_days') | int }}
    group by 1
),

available as (
    select
        label_date,
        {%- for name, rule, needs in early_warning_signals() %}
        ({% for measure in needs %}{{ measure }} > 0{% if not loop.last %} and {% endif %}{% endfor %})
            as signal_{{ name }}_available{% if not loop.last %},{% endif %}
        {%- endfor %}
    from seen
)

select
    cast(label_date as date) as label_date,
    {%- for name, rule, needs in early_warning_signals() %}
    signal_{{ name }}_available,
    {%- endfor %}
    cast(concat_ws(','
        {%- for name, rule, needs in early_warning_signals() %},
        case when not signal_{{ name }}_available then '{{ name }}' end
        {%- endfor %}
    ) as string) as signals_unavailable
from available
