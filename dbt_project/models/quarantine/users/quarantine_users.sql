-- raw user rows not kept in stg_users, as landed, with the reason (invalid or superseded); without
-- nickname, phone or the unreadable line's text (personal data): restricted.raw_users has the full
-- row, found by _source_file and _row_number. Incremental: the rows of the users base_users restaged,
-- and the window's rows without a user id.
{{ config(pre_hook="{{ delete_restaged('base_users', 'clean_user_id', 'user_id', landed_key=true) }}") }}

with

validated as (
    select * from {{ ref('base_users') }}
    where reject_reason is not null
      and {{ restaged('base_users', 'clean_user_id', landed_rows=true) }}
),

rejected as (
    select
        reject_reason,
        user_id,
        {{ landed_text('signup_at', '_ts') }} as signup_at,
        timezone,
        {{ landed_text('push_opt_in', '_bool') }} as push_opt_in,
        {{ landed_text('sms_opt_in', '_bool') }} as sms_opt_in,
        {{ landed_text('call_opt_in', '_bool') }} as call_opt_in,
        {{ landed_text('updated_at', '_ts') }} as updated_at,
        _landing_date,
        _source_file,
        _row_number,
        _load_error
    from validated
)

select * from rejected
