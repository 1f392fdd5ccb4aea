-- customer_landing: every customer source record, typed, with its first problem if any.
-- grain: one source record
-- key: _batch_id, _source_file, _line_number
-- invariant: reject_reason is null exactly for the rows that land; the rest go to quarantine.

with source_records as (
    select * from source_fields
),

typed as (
    select
        *,
        as_text(field(fields, 'customername')) as customerName,
        as_text(field(fields, 'email')) as email,
        as_text(field(fields, 'phone')) as phone,
        as_date(field(fields, 'birthday')) as birthDay,
        as_text(field(fields, 'serialnumber')) as serialNumber,
        as_bigint(field(fields, 'registrationdate')) as registrationDate,
        as_bigint(field(fields, 'lastupdatedate')) as lastUpdateDate,
        as_bigint(field(fields, 'sharewithresearchasofdate')) as shareWithResearchAsOfDate,
        as_bigint(field(fields, 'sharewithpublicasofdate')) as shareWithPublicAsOfDate,
        as_bigint(field(fields, 'sharewithfriendsasofdate')) as shareWithFriendsAsOfDate
    from source_records
),

checked as (
    select
        *,
        case when json_problem is null then first_problem([
            {field: 'email', reason: field_problem(fields, 'email', email, true)},
            {field: 'serialNumber',
             reason: field_problem(fields, 'serialnumber', serialNumber, true)},
            {field: 'lastUpdateDate',
             reason: field_problem(fields, 'lastupdatedate', lastUpdateDate, true)},
            {field: 'customerName',
             reason: field_problem(fields, 'customername', customerName, false)},
            {field: 'phone', reason: field_problem(fields, 'phone', phone, false)},
            {field: 'birthDay', reason: field_problem(fields, 'birthday', birthDay, false)},
            {field: 'registrationDate',
             reason: field_problem(fields, 'registrationdate', registrationDate, false)},
            {field: 'shareWithResearchAsOfDate',
             reason: field_problem(
                 fields, 'sharewithresearchasofdate', shareWithResearchAsOfDate, false)},
            {field: 'shareWithPublicAsOfDate',
             reason: field_problem(
                 fields, 'sharewithpublicasofdate', shareWithPublicAsOfDate, false)},
            {field: 'shareWithFriendsAsOfDate',
             reason: field_problem(
                 fields, 'sharewithfriendsasofdate', shareWithFriendsAsOfDate, false)}
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
