-- customer_landing: every customer source record, typed, with its first problem if any.
-- grain: one source record
-- key: _batch_id, _source_file, _record_number
-- invariant: reject_reason is null exactly for the rows that land; the rest go to quarantine.
--   Fields outside the contract are kept, as one JSON object, in _extra_fields.

with source_records as (
    select * from source_fields
),

-- The contract's fields, found by their exact names.
found as (
    select
        *,
        found_fields(
            record,
            [
                '$.customerName', '$.email', '$.phone', '$.birthDay', '$.serialNumber',
                '$.registrationDate', '$.lastUpdateDate', '$.shareWithResearchAsOfDate',
                '$.shareWithPublicAsOfDate', '$.shareWithFriendsAsOfDate'
            ]
        ) as found
    from source_records
),

extracted as (
    select
        *,
        field(found, 1, record, keys, 'customerName') as customerName_field,
        field(found, 2, record, keys, 'email') as email_field,
        field(found, 3, record, keys, 'phone') as phone_field,
        field(found, 4, record, keys, 'birthDay') as birthDay_field,
        field(found, 5, record, keys, 'serialNumber') as serialNumber_field,
        field(found, 6, record, keys, 'registrationDate') as registrationDate_field,
        field(found, 7, record, keys, 'lastUpdateDate') as lastUpdateDate_field,
        field(
            found, 8, record, keys, 'shareWithResearchAsOfDate'
        ) as shareWithResearchAsOfDate_field,
        field(found, 9, record, keys, 'shareWithPublicAsOfDate') as shareWithPublicAsOfDate_field,
        field(found, 10, record, keys, 'shareWithFriendsAsOfDate') as shareWithFriendsAsOfDate_field
    from found
),

typed as (
    select
        *,
        as_text(customerName_field) as customerName,
        as_text(email_field) as email,
        as_text(phone_field) as phone,
        as_date(birthDay_field) as birthDay,
        as_text(serialNumber_field) as serialNumber,
        as_bigint(registrationDate_field) as registrationDate,
        as_bigint(lastUpdateDate_field) as lastUpdateDate,
        as_bigint(shareWithResearchAsOfDate_field) as shareWithResearchAsOfDate,
        as_bigint(shareWithPublicAsOfDate_field) as shareWithPublicAsOfDate,
        as_bigint(shareWithFriendsAsOfDate_field) as shareWithFriendsAsOfDate
    from extracted
),

checked as (
    select
        *,
        case
            when json_problem is not null then null
            when repeats_a_key(
                keys,
                [
                    'customername', 'email', 'phone', 'birthday', 'serialnumber',
                    'registrationdate', 'lastupdatedate', 'sharewithresearchasofdate',
                    'sharewithpublicasofdate', 'sharewithfriendsasofdate'
                ]
            ) then {field: null, reason: 'duplicate_key'}
            else first_problem([
            {field: 'email', reason: field_problem(email_field, email, true)},
            {
                field: 'serialNumber',
                reason: field_problem(serialNumber_field, serialNumber, true)
            },
            {
                field: 'lastUpdateDate',
                reason: field_problem(lastUpdateDate_field, lastUpdateDate, true)
            },
            {
                field: 'customerName',
                reason: field_problem(customerName_field, customerName, false)
            },
            {field: 'phone', reason: field_problem(phone_field, phone, false)},
            {
                field: 'birthDay',
                reason: field_problem(birthDay_field, birthDay, false)
            },
            {
                field: 'registrationDate',
                reason: field_problem(registrationDate_field, registrationDate, false)
            },
            {
                field: 'shareWithResearchAsOfDate',
                reason: field_problem(
                    shareWithResearchAsOfDate_field, shareWithResearchAsOfDate, false
                )
            },
            {
                field: 'shareWithPublicAsOfDate',
                reason: field_problem(shareWithPublicAsOfDate_field, shareWithPublicAsOfDate, false)
            },
            {
                field: 'shareWithFriendsAsOfDate',
                reason: field_problem(
                    shareWithFriendsAsOfDate_field, shareWithFriendsAsOfDate, false
                )
            },
            {field: 'lastUpdateDate', reason: epoch_ms_problem(lastUpdateDate)},
            {field: 'registrationDate', reason: epoch_ms_problem(registrationDate)},
            {
                field: 'shareWithResearchAsOfDate',
                reason: epoch_ms_problem(shareWithResearchAsOfDate)
            },
            {field: 'shareWithPublicAsOfDate', reason: epoch_ms_problem(shareWithPublicAsOfDate)},
            {field: 'shareWithFriendsAsOfDate', reason: epoch_ms_problem(shareWithFriendsAsOfDate)}
        ]) end as problem
    from typed
),

final as (
    select
        customerName,
        email,
        phone,
        birthDay,
        serialNumber,
        registrationDate,
        lastUpdateDate,
        shareWithResearchAsOfDate,
        shareWithPublicAsOfDate,
        shareWithFriendsAsOfDate,
        _source_file,
        _line_number,
        _record_number,
        getvariable('batch_id') as _batch_id,
        getvariable('ingested_at')::timestamptz as _ingested_at,
        case
            -- More keys than the contract's fields found by name: new fields, or a known
            -- one spelled in another case.
            when
                coalesce(json_problem, problem.reason) is null
                and len(keys) > list_aggregate(found.kinds, 'count') then extra_fields(
                record,
                keys,
                [
                    'customername', 'email', 'phone', 'birthday', 'serialnumber',
                    'registrationdate', 'lastupdatedate', 'sharewithresearchasofdate',
                    'sharewithpublicasofdate', 'sharewithfriendsasofdate'
                ]
            )
        end as _extra_fields,
        raw,
        coalesce(json_problem, problem.reason) as reject_reason,
        problem.field as reject_field
    from checked
)

select * from final
