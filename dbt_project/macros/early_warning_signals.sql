{#- The ten early-warning signals, written once. Each is a name, a rule over the columns of
    int_user_rolling_activity plus the four drops of int_user_signals, and the events it needs: the
    columns of int_feed_daily_counts that must be non-zero in the last var `signal_availability_days`
    days for the signal to be available (int_signal_availability). An unavailable signal never fires
    and does not count. The other macros here turn the list into the signal columns, signal_count and
    signals_fired (in this order). Thresholds are vars, so each vertical preset sets its own. -#}

{% macro early_warning_signals() %}
    {%- set min_count = var('signal_min_baseline_count') -%}
    {%- set drop = var('signal_drop_threshold') -%}

    {#- the "three lows" against the user's own baseline, and core-feature use -#}
    {%- set login_drop -%}
        logins_baseline_7d >= {{ min_count }} and login_drop >= {{ drop }}
    {%- endset -%}
    {%- set depth_drop -%}
        logins_baseline_7d >= {{ min_count }} and depth_drop >= {{ drop }}
    {%- endset -%}
    {%- set spend_drop -%}
        spend_baseline_7d >= {{ var('signal_min_baseline_spend') }} and spend_drop >= {{ drop }}
    {%- endset -%}
    {%- set core_feature_drop -%}
        core_feature_baseline_7d >= {{ min_count }} and core_feature_drop >= {{ drop }}
    {%- endset -%}
    {%- set no_core_sessions -%}
        no_core_session_streak >= {{ var('signal_no_core_session_streak') }}
    {%- endset -%}
    {#- a regular payer silent past tolerance x its usual cycle -#}
    {%- set payment_interruption -%}
        purchase_days_90d >= {{ var('signal_payment_min_purchase_days') }}
        and days_since_last_purchase > {{ var('signal_payment_cycle_tolerance') }} * purchase_cycle_days
    {%- endset -%}
    {%- set social_zero -%}
        social_events_7d = 0 and social_events_baseline_28d > 0
    {%- endset -%}
    {%- set device_change -%}
        device_changes_7d > 0
    {%- endset -%}
    {#- finance: a withdrawal large against the user's own history or its peak balance, and assets
        run down below a share of their peak -#}
    {%- set large_withdrawal -%}
        max_withdrawal_7d >= {{ var('signal_large_withdrawal_multiple') }} * mean_withdrawal_history
        or max_withdrawal_7d >= {{ var('signal_large_withdrawal_peak_share') }} * peak_balance_90d
    {%- endset -%}
    {%- set partial_churn -%}
        withdrawals_30d > 0 and investments_7d = 0
        and current_balance < {{ var('signal_partial_churn_asset_share') }} * peak_balance_90d
    {%- endset -%}

    {{- return([
        ('login_drop', login_drop, ['sessions']),
        ('depth_drop', depth_drop, ['sessions']),
        ('spend_drop', spend_drop, ['purchases']),
        ('core_feature_drop', core_feature_drop, ['core_feature_events']),
        ('no_core_sessions', no_core_sessions, ['sessions', 'core_feature_events']),
        ('payment_interruption', payment_interruption, ['purchases']),
        ('social_zero', social_zero, ['social_events']),
        ('device_change', device_change, ['device_changes']),
        ('large_withdrawal', large_withdrawal, ['withdrawals']),
        ('partial_churn', partial_churn, ['withdrawals', 'balance_reports']),
    ]) -}}
{% endmacro %}

{% macro signal_columns() -%}
    {#- One boolean column per signal, `signal_<name>`: false when the signal is unavailable (column
        `signal_<name>_available` of int_signal_availability) and when its rule reads missing values. -#}
    {%- for name, rule, needs in early_warning_signals() %}
        coalesce(signal_{{ name }}_available and ({{ rule }}), false) as signal_{{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro signal_count() -%}
    {#- How many signals fired (0-10). -#}
    cast(
        {%- for name, rule, needs in early_warning_signals() %}
        cast(signal_{{ name }} as integer){% if not loop.last %} +{% endif %}
        {%- endfor %}
    as integer)
{%- endmacro %}

{% macro signals_fired() -%}
    {#- The fired signals' names, comma-separated in list order; empty when none. -#}
    concat_ws(','
        {%- for name, rule, needs in early_warning_signals() %},
        case when signal_{{ name }} then '{{ name }}' end
        {%- endfor %}
    )
{%- endmacro %}
