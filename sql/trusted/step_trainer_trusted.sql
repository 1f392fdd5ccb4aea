-- step_trainer_trusted: step-trainer readings attributable to a consenting customer.
-- grain: one reading per serial and reading time; of conflicting copies the last landed wins
-- key: serialNumber, sensorReadingTime
-- invariant: a customer_trusted customer owns the serial (at any point of the change log)
--   and has an accelerometer_trusted reading at the same time. The fulfilment website
--   reused serials across customers, so owning the serial alone does not attribute a
--   reading: a reading taken while a customer without consent used the device is left out.

with step_trainer_landing as (
    select * from step_trainer_landing
),

customer_trusted as (
    select * from customer_trusted
),

accelerometer_trusted as (
    select * from accelerometer_trusted
),

owners as (
    select
        email_key,
        unnest(serial_numbers) as serialNumber
    from customer_trusted
),

-- accelerometer_trusted already applies the consent policy to the owner's readings.
attributable as (
    select *
    from step_trainer_landing
    where exists (
        select 1
        from owners
        inner join accelerometer_trusted
            on owners.email_key = accelerometer_trusted.email_key
        where
            owners.serialNumber = step_trainer_landing.serialNumber
            and accelerometer_trusted.timestamp = step_trainer_landing.sensorReadingTime
    )
),

deduplicated as (
    select *
    from attributable
    qualify row_number() over (
        partition by serialNumber, sensorReadingTime
        order by _batch_id desc, _source_file desc, _record_number desc
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
        _record_number,
        _batch_id
    from deduplicated
)

select * from final
