-- every raw user row with parsed fields and a reject_reason (null for the kept latest version);
-- older versions of a user are marked `superseded` so raw = stg + quarantine per landing day.

with

raw_users as (
    select * from {{ source('raw', 'raw_users') }}
),

parsed as (
    select
        raw_users.*,
        nullif(trim(user_id), '') as clean_user_id,
        {{ parse_utc_timestamp('signup_at') }} as signup_at_utc,
        {{ parse_utc_timestamp('updated_at') }} as updated_at_utc,
        {{ parse_boolean('push_opt_in') }} as push_opt_in_flag,
        {{ parse_boolean('sms_opt_in') }} as sms_opt_in_flag,
        {{ parse_boolean('call_opt_in') }} as call_opt_in_flag
    from raw_users
),

checked as (
    select
        parsed.*,
        case
            when clean_user_id is null then 'missing_user_id'
            when signup_at_utc is null then 'invalid_signup_at'
            when updated_at_utc is null then 'invalid_updated_at'
            when push_opt_in_flag is null or sms_opt_in_flag is null or call_opt_in_flag is null
                then 'invalid_consent_flag'
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
            as reject_reason
    from ranked
)

select * from validated
