{#- Generic tests that check a whole rule set of a model in one query each, so a daily run pays for
    a few queries per model instead of one per column (dbt spends ~25 ms on every test node).
    `window_column`: on daily models, only the rows of the processing window (lookback included)
    are checked: older rows were checked by the run that wrote them. -#}

{#- The primary key: no column of it null, no combination repeated. -#}
{% test primary_key(model, columns, window_column=none) %}
with rows_in_scope as (
    select {{ columns | join(', ') }} from {{ model }} {{ window_filter(window_column) }}
)
select {{ columns | join(', ') }}, count(*) as n_rows
from rows_in_scope
group by all
having count(*) > 1 or {% for c in columns %}{{ c }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}

{#- Every listed column has a value on every row. -#}
{% test not_null_columns(model, columns, window_column=none) %}
select * from {{ model }}
{% if window_column %}{{ window_filter(window_column) }} and{% else %}where{% endif %}
({% for c in columns %}{{ c }} is null{% if not loop.last %} or {% endif %}{% endfor %})
{% endtest %}

{#- Each listed column holds only its accepted values (nulls are checked by not_null_columns). -#}
{% test accepted_values_by_column(model, values, window_column=none) %}
select * from {{ model }}
{% if window_column %}{{ window_filter(window_column) }} and{% else %}where{% endif %}
({% for column, accepted in values.items() %}
    ({{ column }} is not null and cast({{ column }} as string) not in (
        {%- for v in accepted %}'{{ v | string | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )){% if not loop.last %} or{% endif %}
{% endfor %})
{% endtest %}

{#- Every value of `column` exists in `field` of the reference relation `to` (a windowed relationships test). -#}
{% test values_in_reference(model, column, to, field, window_column=none) %}
select {{ column }} from {{ model }} as child
{% if window_column %}{{ window_filter(window_column) }} and{% else %}where{% endif %}
{{ column }} is not null and not exists (select 1 from {{ to }} as parent where parent.{{ field }} = child.{{ column }})
{% endtest %}
