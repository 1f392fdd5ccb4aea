-- consent: no trusted row belongs to a customer whose latest record lacks research consent
--   or is held back by an as recent quarantined record, nor, under the `since-consent`
--   policy, predates the customer's consent.
-- grain: one offending trusted row
-- key: table_name, row_key

with customer_landing as (
    select * from customer_landing
),

consenting as (
    select * from consenting_customers
),

-- A serial's earliest consent among its consenting owners: a reading is allowed when some
-- owner had consented by then. One row per serial, as a reused serial has hundreds of owners.
serial_consents as (
    select
        customer_landing.serialNumber,
        min(consenting.consented_at) as consented_at
    from customer_landing
    inner join consenting on normal_email(customer_landing.email) = consenting.email_key
    group by customer_landing.serialNumber
),

leaked_customers as (
    select 'customer_trusted' as table_name, email_key as row_key
    from customer_trusted
    where customer_trusted.email_key not in (select consenting.email_key from consenting)
),

leaked_accelerometer as (
    select 'accelerometer_trusted' as table_name, email_key || '@' || timestamp as row_key
    from accelerometer_trusted
    where not exists (
        select 1 from consenting
        where consenting.email_key = normal_email(accelerometer_trusted.user)
            and (
                getvariable('consent_policy') = 'customer'
                or accelerometer_trusted.timestamp >= consenting.consented_at
            )
    )
),

leaked_step_trainer as (
    select
        'step_trainer_trusted' as table_name,
        serialNumber || '@' || sensorReadingTime as row_key
    from step_trainer_trusted
    where not exists (
        select 1 from serial_consents
        where serial_consents.serialNumber = step_trainer_trusted.serialNumber
            and (
                getvariable('consent_policy') = 'customer'
                or step_trainer_trusted.sensorReadingTime >= serial_consents.consented_at
            )
    )
),

final as (
    select * from leaked_customers
    union all
    select * from leaked_accelerometer
    union all
    select * from leaked_step_trainer
)

select * from final
