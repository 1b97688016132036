-- raw user rows not kept in stg_users, as landed, with the reason (invalid or superseded).
with

validated as (
    select * from {{ ref('base_users') }}
    where reject_reason is not null
),

rejected as (
    select
        reject_reason,
        user_id,
        signup_at,
        nickname,
        phone,
        timezone,
        push_opt_in,
        sms_opt_in,
        call_opt_in,
        updated_at,
        _landing_date,
        _source_file,
        _row_number
    from validated
)

select * from rejected
