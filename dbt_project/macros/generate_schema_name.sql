{#- A folder's `+schema` is the schema itself (e.g. `restricted`), not `<target schema>_restricted`:
    personal data lives in one schema that access rules and the BI export can name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
