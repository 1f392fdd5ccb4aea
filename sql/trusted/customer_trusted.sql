-- customer_trusted: each customer's current state, kept only when it grants research consent.
-- grain: one customer, identified by email_key = lower(trim(email))
-- key: email_key
-- invariant: shareWithResearchAsOfDate is not null; the row is the customer's latest record
--   (latest lastUpdateDate; ties go to the later batch, then file, then record); no quarantined
--   record of the customer is as recent as it.

with customer_landing as (
    select * from customer_landing
),

quarantine as (
    select * from quarantine
),

-- Each email in a rejected customer record, with the record's lastUpdateDate if readable.
rejected as (
    select
        unnest(customer_emails) as email_key,
        last_update_date
    from quarantine
    where dataset = 'customer'
),

records as (
    select
        *,
        normal_email(email) as email_key
    from customer_landing
),

latest as (
    select *
    from records
    qualify row_number() over (
        partition by email_key
        order by lastUpdateDate desc, _batch_id desc, _source_file desc, _record_number desc
    ) = 1
),

-- A customer may have owned several serials over the change log.
owned_serials as (
    select
        email_key,
        list(distinct serialNumber order by serialNumber) as serial_numbers
    from records
    group by email_key
),

-- A rejected customer record may carry a withdrawal of consent: until a later valid record
-- supersedes it, its customer is held back.
held_back as (
    select latest.email_key
    from latest
    inner join rejected on latest.email_key = rejected.email_key
    where rejected.last_update_date is null or rejected.last_update_date >= latest.lastUpdateDate
),

consenting as (
    select *
    from latest
    where
        shareWithResearchAsOfDate is not null
        and latest.email_key not in (select held_back.email_key from held_back)
),

final as (
    select
        consenting.email_key,
        consenting.customerName,
        consenting.email,
        consenting.phone,
        consenting.birthDay,
        consenting.serialNumber,
        owned_serials.serial_numbers,
        consenting.registrationDate,
        consenting.lastUpdateDate,
        consenting.shareWithResearchAsOfDate,
        consenting.shareWithPublicAsOfDate,
        consenting.shareWithFriendsAsOfDate,
        consenting._source_file,
        consenting._line_number,
        consenting._record_number,
        consenting._batch_id
    from consenting
    inner join owned_serials on consenting.email_key = owned_serials.email_key
)

select * from final
