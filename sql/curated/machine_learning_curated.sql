-- machine_learning_curated: step-trainer readings paired with accelerometer readings taken
--   at the same time, for training the step-detection model.
-- grain: one (step-trainer reading, accelerometer reading) pair
-- key: customer_id, serialNumber, sensorReadingTime, x, y, z
-- invariant: with ml_join = 'customer' (the default) both readings belong to one customer:
--   the serial is one the customer owns and the accelerometer reading is theirs. With
--   ml_join = 'timestamp' (the course rubric) only the times match, so readings of different
--   customers that share a timestamp are paired; customer_id is the accelerometer's customer.

with step_trainer_trusted as (
    select * from step_trainer_trusted
),

accelerometer_trusted as (
    select * from accelerometer_trusted
),

customer_trusted as (
    select * from customer_trusted
),

owners as (
    select
        email_key,
        unnest(serial_numbers) as serialNumber
    from customer_trusted
),

paired_by_customer as (
    select
        accelerometer_trusted.email_key,
        step_trainer_trusted.serialNumber,
        step_trainer_trusted.sensorReadingTime,
        step_trainer_trusted.reading_at,
        step_trainer_trusted.reading_date,
        step_trainer_trusted.distanceFromObject,
        accelerometer_trusted.x,
        accelerometer_trusted.y,
        accelerometer_trusted.z
    from step_trainer_trusted
    inner join accelerometer_trusted
        on step_trainer_trusted.sensorReadingTime = accelerometer_trusted.timestamp
    where
        getvariable('ml_join') = 'customer'
        -- Owners are tested after the time join, not joined first: a reused serial has
        -- hundreds of owners, and a join through them multiplies its readings as many times.
        and exists (
            select 1 from owners
            where
                owners.email_key = accelerometer_trusted.email_key
                and owners.serialNumber = step_trainer_trusted.serialNumber
        )
),

paired_by_timestamp as (
    select
        accelerometer_trusted.email_key,
        step_trainer_trusted.serialNumber,
        step_trainer_trusted.sensorReadingTime,
        step_trainer_trusted.reading_at,
        step_trainer_trusted.reading_date,
        step_trainer_trusted.distanceFromObject,
        accelerometer_trusted.x,
        accelerometer_trusted.y,
        accelerometer_trusted.z
    from step_trainer_trusted
    inner join accelerometer_trusted
        on step_trainer_trusted.sensorReadingTime = accelerometer_trusted.timestamp
    where getvariable('ml_join') = 'timestamp'
),

paired as (
    select * from paired_by_customer
    union all
    select * from paired_by_timestamp
),

final as (
    select
        customer_id(email_key) as customer_id,
        serialNumber,
        sensorReadingTime,
        reading_at,
        reading_date,
        distanceFromObject,
        x,
        y,
        z
    from paired
)

select * from final
