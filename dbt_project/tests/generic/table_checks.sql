{#- Generic tests that check a whole rule set of a model in one query each, so a daily run pays for
    a few queries per model instead of one per column or rule (dbt spends 25-70 ms on every test node).
    `window_column`: on daily models, only the rows the run rewrote are checked, the processing window and its
    lookback days (`window_lookback: false` for models that rewrite the window's days only): older rows were
    checked by the run that wrote them. -#}

{#- A model's row rules in one query (one dbt node): `primary_key`, no column of it null and no combination
    repeated; `not_null`, every listed column has a value on every row; `accepted_values`, each listed column holds
    only its values (nulls are not_null's business). Each failing row names the rule it breaks and where. -#}
{% test row_rules(model, primary_key=[], not_null=[], accepted_values={}, window_column=none, window_lookback=true) %}
{%- set parts = [] -%}
{%- if primary_key -%}
{%- set keys = [] -%}{%- for c in primary_key -%}{%- do keys.append("cast(" ~ c ~ " as string)") -%}{%- endfor -%}
{%- do parts.append(
    "select 'primary_key' as broken_rule, concat_ws(' | ', " ~ keys | join(', ') ~ ") as detail, count(*) as n_rows "
    ~ "from rows_in_scope group by " ~ primary_key | join(', ')
    ~ " having count(*) > 1 or " ~ primary_key | join(' is null or ') ~ " is null") -%}
{%- endif -%}
{%- if not_null -%}
{%- set named = [] -%}{%- for c in not_null -%}{%- do named.append("case when " ~ c ~ " is null then '" ~ c ~ "' end") -%}{%- endfor -%}
{%- do parts.append(
    "select 'not_null' as broken_rule, concat_ws(', ', " ~ named | join(', ') ~ ") as detail, 1 as n_rows "
    ~ "from rows_in_scope where " ~ not_null | join(' is null or ') ~ " is null") -%}
{%- endif -%}
{%- if accepted_values -%}
{%- set unknown = [] -%}{%- set named = [] -%}
{%- for column, accepted in accepted_values.items() -%}
    {%- set listed = [] -%}{%- for v in accepted -%}{%- do listed.append("'" ~ (v | string | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {%- set outside = "(" ~ column ~ " is not null and cast(" ~ column ~ " as string) not in (" ~ listed | join(', ') ~ "))" -%}
    {%- do unknown.append(outside) -%}
    {%- do named.append("case when " ~ outside ~ " then concat('" ~ column ~ "=', cast(" ~ column ~ " as string)) end") -%}
{%- endfor -%}
{%- do parts.append(
    "select 'accepted_values' as broken_rule, concat_ws(', ', " ~ named | join(', ') ~ ") as detail, 1 as n_rows "
    ~ "from rows_in_scope where " ~ unknown | join(' or ')) -%}
{%- endif -%}
with rows_in_scope as {{ not_materialized() }} (
    select * from {{ model }} {{ window_filter(window_column, window_lookback) }}
)
{{ parts | join('\nunion all\n') }}
{% endtest %}

{#- Every value of `column` exists in `field` of the reference relation `to` (a windowed relationships test). -#}
{% test values_in_reference(model, column, to, field, window_column=none, window_lookback=true) %}
select {{ column }} from {{ model }} as child
{% if window_column %}{{ window_filter(window_column, window_lookback) }} and{% else %}where{% endif %}
{{ column }} is not null and not exists (select 1 from {{ to }} as parent where parent.{{ field }} = child.{{ column }})
{% endtest %}
