-- customer_trusted: each customer's current state, kept only when it grants research consent.
-- grain: one customer, identified by email_key = lower(trim(email))
-- key: email_key
-- invariant: shareWithResearchAsOfDate is not null; the row is the customer's latest record
--   (latest lastUpdateDate; ties go to the later batch, then file, then line).

with customer_landing as (
    select * from customer_landing
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
        order by lastUpdateDate desc, _batch_id desc, _source_file desc, _line_number desc
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

consenting as (
    select *
    from latest
    where shareWithResearchAsOfDate is not null
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
        consenting._batch_id
    from consenting
    inner join owned_serials on consenting.email_key = owned_serials.email_key
)

select * from final
