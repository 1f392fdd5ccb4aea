-- customer_landing: every customer source record, typed, with its first problem if any.
-- grain: one source record
-- key: _batch_id, _source_file, _line_number
-- invariant: reject_reason is null exactly for the rows that land; the rest go to quarantine.

with source_records as (
    select * from source_fields
),

extracted as (
    select
        *,
        field(record, keys, 'customerName') as customerName_json,
        field(record, keys, 'email') as email_json,
        field(record, keys, 'phone') as phone_json,
        field(record, keys, 'birthDay') as birthDay_json,
        field(record, keys, 'serialNumber') as serialNumber_json,
        field(record, keys, 'registrationDate') as registrationDate_json,
        field(record, keys, 'lastUpdateDate') as lastUpdateDate_json,
        field(record, keys, 'shareWithResearchAsOfDate') as shareWithResearchAsOfDate_json,
        field(record, keys, 'shareWithPublicAsOfDate') as shareWithPublicAsOfDate_json,
        field(record, keys, 'shareWithFriendsAsOfDate') as shareWithFriendsAsOfDate_json
    from source_records
),

typed as (
    select
        *,
        as_text(customerName_json) as customerName,
        as_text(email_json) as email,
        as_text(phone_json) as phone,
        as_date(birthDay_json) as birthDay,
        as_text(serialNumber_json) as serialNumber,
        as_bigint(registrationDate_json) as registrationDate,
        as_bigint(lastUpdateDate_json) as lastUpdateDate,
        as_bigint(shareWithResearchAsOfDate_json) as shareWithResearchAsOfDate,
        as_bigint(shareWithPublicAsOfDate_json) as shareWithPublicAsOfDate,
        as_bigint(shareWithFriendsAsOfDate_json) as shareWithFriendsAsOfDate
    from extracted
),

checked as (
    select
        *,
        case when json_problem is null then first_problem([
            {field: 'email', reason: field_problem(keys, 'email', email_json, email, true)},
            {
                field: 'serialNumber',
                reason: field_problem(keys, 'serialNumber', serialNumber_json, serialNumber, true)
            },
            {
                field: 'lastUpdateDate',
                reason: field_problem(
                    keys, 'lastUpdateDate', lastUpdateDate_json,
                    lastUpdateDate, true
                )
            },
            {
                field: 'customerName',
                reason: field_problem(keys, 'customerName', customerName_json, customerName, false)
            },
            {field: 'phone', reason: field_problem(keys, 'phone', phone_json, phone, false)},
            {
                field: 'birthDay',
                reason: field_problem(keys, 'birthDay', birthDay_json, birthDay, false)
            },
            {
                field: 'registrationDate',
                reason: field_problem(
                    keys, 'registrationDate', registrationDate_json,
                    registrationDate, false
                )
            },
            {
                field: 'shareWithResearchAsOfDate',
                reason: field_problem(
                    keys, 'shareWithResearchAsOfDate', shareWithResearchAsOfDate_json,
                    shareWithResearchAsOfDate, false
                )
            },
            {
                field: 'shareWithPublicAsOfDate',
                reason: field_problem(
                    keys, 'shareWithPublicAsOfDate', shareWithPublicAsOfDate_json,
                    shareWithPublicAsOfDate, false
                )
            },
            {
                field: 'shareWithFriendsAsOfDate',
                reason: field_problem(
                    keys, 'shareWithFriendsAsOfDate', shareWithFriendsAsOfDate_json,
                    shareWithFriendsAsOfDate, false
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
        getvariable('batch_id') as _batch_id,
        getvariable('ingested_at')::timestamptz as _ingested_at,
        raw,
        coalesce(json_problem, problem.reason) as reject_reason,
        problem.field as reject_field
    from checked
)

select * from final
