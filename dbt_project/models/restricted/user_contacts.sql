-- the personal data delivery needs (nickname for messages, phone for SMS and calls), per profile
-- version with the days it was in force: the versions of int_user_versions, in the restricted schema.
-- Incremental: the contacts of the users base_users restaged.
{{ config(pre_hook="{{ delete_restaged('base_users', 'clean_user_id', 'user_id') }}") }}

with

versions as (
    select * from {{ ref('int_user_versions') }}
    where {{ restaged('base_users', 'clean_user_id', key='user_id') }}
),

profiles as (
    select * from {{ ref('base_users') }}
),

contacts as (
    select
        versions.user_id,
        versions.updated_at,
        versions.valid_from,
        versions.valid_to,
        nullif(trim(profiles.nickname), '') as nickname,
        nullif(trim(profiles.phone), '') as phone
    from versions
    join profiles
        on profiles._source_file = versions._source_file
        and profiles._row_number = versions._row_number
)

select * from contacts
