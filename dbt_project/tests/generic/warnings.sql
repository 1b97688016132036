{#- Warning checks: a column that names something wrong (a signal the feed cannot support, a preset far
    from the data's rhythm) should be empty; used with severity warn, so the run goes on and Dagster
    shows a warning check with the failing rows. -#}

{% test no_warning(model, column, window_column=none) %}
    select {{ column }} from {{ model }}
    where coalesce({{ column }}, '') <> ''
    {%- if window_column %}
      and {{ window_column }} >= {{ lookback_start_date() }} and {{ window_column }} < {{ checks_max_date() }}
    {%- endif %}
{% endtest %}
