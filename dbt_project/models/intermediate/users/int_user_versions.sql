-- every valid version of a user's consent and timezone with the business days it was in force,
-- so that decisions for a past day read the consent the user had on that day (point in time).
-- No personal data: restricted.user_contacts has the nickname and phone of each version.
-- Incremental: the versions of the users base_users restaged.
{{ config(pre_hook="{{ delete_restaged('base_users', 'clean_user_id', 'user_id') }}") }}

with

validated as (
    select * from {{ ref('base_users') }}
    where content_reject_reason is null
      and {{ restaged('base_users', 'clean_user_id') }}
),

versions as (
    select
        clean_user_id as user_id,
        updated_at_utc as updated_at,
        {{ business_date('updated_at_utc') }} as valid_from,
        nullif(trim(timezone), '') as timezone,
        push_opt_in_flag as push_opt_in,
        sms_opt_in_flag as sms_opt_in,
        call_opt_in_flag as call_opt_in,
        _source_file,
        _row_number,
        row_number() over (
            partition by clean_user_id, updated_at_utc
            order by _landing_date desc, _source_file desc, _row_number desc
        ) as copy_rank
    from validated
),

dated as (
    select
        user_id,
        updated_at,
        valid_from,
        timezone,
        push_opt_in,
        sms_opt_in,
        call_opt_in,
        _source_file,
        _row_number,
        lead(valid_from) over (partition by user_id order by updated_at) as valid_to
    from versions
    where copy_rank = 1
)

select * from dated
