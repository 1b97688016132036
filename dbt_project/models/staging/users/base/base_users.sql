-- every raw user row with parsed fields and a reject_reason (null for the kept latest version);
-- older valid versions of a user are marked `superseded` so raw = stg + quarantine per landing day.
-- Holds nickname and phone: it lives in the restricted schema with the raw users.
-- Incremental per landing window: every row of the users with a row landed in it is checked again
-- (macros/restaged_rows.sql), stamped `_staged_by`, and replaces their older rows in the post-hook.
{{ config(post_hook="{{ drop_replaced_rows('clean_user_id') }}") }}

with

raw_users as (
    select * from {{ source('restricted', 'raw_users') }}
),
{% if restages_by_key() %}

window_users as (
    -- the users with a row landed in the window, now or before the landing day was loaded again
    select nullif(trim(user_id), '') as user_id from raw_users where {{ window_landed() }}
    union
    select clean_user_id from {{ this }} where {{ window_landed() }}
),
{% endif %}

restaged as (
    select * from raw_users
    {% if restages_by_key() -%}
    where {{ window_landed() }} or nullif(trim(user_id), '') in (select user_id from window_users)
    {%- endif %}
),

parsed as (
    select
        restaged.*,
        nullif(trim(user_id), '') as clean_user_id,
        {{ landed_timestamp('signup_at') }} as signup_at_utc,
        {{ landed_timestamp('updated_at') }} as updated_at_utc,
        {{ landed_boolean('push_opt_in') }} as push_opt_in_flag,
        {{ landed_boolean('sms_opt_in') }} as sms_opt_in_flag,
        {{ landed_boolean('call_opt_in') }} as call_opt_in_flag
    from restaged
),

checked as (
    -- the first failing rule names the row's reason; the rules and bounds: docs/contracts.md
    select
        parsed.*,
        case
            when _load_error is not null then 'malformed_line'
            else coalesce(
                {{ id_reason('clean_user_id', 'user_id') }},
                case
                    when signup_at_utc is null then 'invalid_signup_at'
                    when updated_at_utc is null then 'invalid_updated_at'
                    when signup_at_utc >= {{ arrival_ceiling('_landing_date') }} then 'signup_at_in_future'
                    -- a version from the future would mask every later real change (an opt-out)
                    when updated_at_utc >= {{ arrival_ceiling('_landing_date') }} then 'updated_at_in_future'
                    when updated_at_utc < {{ skewed('signup_at_utc', '-') }} then 'updated_before_signup'
                    when push_opt_in_flag is null or sms_opt_in_flag is null or call_opt_in_flag is null
                        then 'invalid_consent_flag'
                end
            )
        end as content_reject_reason
    from parsed
),

ranked as (
    select
        checked.*,
        row_number() over (
            partition by clean_user_id, content_reject_reason is null
            order by updated_at_utc desc, _landing_date desc, _source_file desc, _row_number desc
        ) as version_rank
    from checked
),

validated as (
    select
        ranked.*,
        coalesce(content_reject_reason, case when version_rank > 1 then 'superseded' end)
            as reject_reason,
        '{{ invocation_id }}' as _staged_by
    from ranked
)

select * from validated
