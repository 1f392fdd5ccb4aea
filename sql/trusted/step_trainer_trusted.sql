-- step_trainer_trusted: readings of serials owned by customers with consent and readings.
-- grain: one reading per serial and reading time; of conflicting copies the last landed wins
-- key: serialNumber, sensorReadingTime
-- invariant: the serial is owned by a customer_trusted customer who has accelerometer
--   readings (a customer_curated customer); with `since-consent`, the reading was taken at
--   or after that owner's shareWithResearchAsOfDate.

with step_trainer_landing as (
    select * from step_trainer_landing
),

customer_trusted as (
    select * from customer_trusted
),

accelerometer_trusted as (
    select * from accelerometer_trusted
),

-- The fulfilment website reused serials across customers: a serial may have several owners.
owners as (
    select
        email_key,
        unnest(serial_numbers) as serialNumber,
        shareWithResearchAsOfDate
    from customer_trusted
    where
        customer_trusted.email_key
        in (select accelerometer_trusted.email_key from accelerometer_trusted)
),

owned as (
    select *
    from step_trainer_landing
    where exists (
        select 1
        from owners
        where owners.serialNumber = step_trainer_landing.serialNumber
            and (
                getvariable('consent_policy') = 'customer'
                or step_trainer_landing.sensorReadingTime >= owners.shareWithResearchAsOfDate
            )
    )
),

deduplicated as (
    select *
    from owned
    qualify row_number() over (
        partition by serialNumber, sensorReadingTime
        order by _batch_id desc, _source_file desc, _line_number desc
    ) = 1
),

final as (
    select
        serialNumber,
        sensorReadingTime,
        distanceFromObject,
        reading_at,
        reading_date,
        _source_file,
        _line_number,
        _batch_id
    from deduplicated
)

select * from final
