-- one row per user: the latest valid profile version (by updated_at), typed, without personal data
-- (nickname and phone live in restricted.user_contacts). Incremental: the users base_users restaged.
{{ config(pre_hook="{{ delete_restaged('base_users', 'clean_user_id', 'user_id') }}") }}

with

validated as (
    select * from {{ ref('base_users') }}
    where reject_reason is null
      and {{ restaged('base_users', 'clean_user_id') }}
),

typed as (
    select
        clean_user_id as user_id,
        signup_at_utc as signup_at,
        {{ business_date('signup_at_utc') }} as signup_date,
        nullif(trim(timezone), '') as timezone,
        push_opt_in_flag as push_opt_in,
        sms_opt_in_flag as sms_opt_in,
        call_opt_in_flag as call_opt_in,
        updated_at_utc as updated_at,
        _landing_date,
        _source_file,
        _row_number
    from validated
)

select * from typed
