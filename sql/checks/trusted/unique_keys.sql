-- unique_keys: each trusted table's key (from its SQL header) is unique and not null.
-- grain: one duplicated or null key value
-- key: table_name, row_key

with customer_keys as (
    select 'customer_trusted' as table_name, email_key as row_key, count(*) as copies
    from customer_trusted
    group by email_key
),

accelerometer_keys as (
    select
        'accelerometer_trusted' as table_name,
        concat_ws('|', email_key, timestamp, x, y, z) as row_key,
        count(*) as copies
    from accelerometer_trusted
    group by email_key, timestamp, x, y, z
),

step_trainer_keys as (
    select
        'step_trainer_trusted' as table_name,
        concat_ws('|', serialNumber, sensorReadingTime) as row_key,
        count(*) as copies
    from step_trainer_trusted
    group by serialNumber, sensorReadingTime
),

null_keys as (
    select 'customer_trusted' as table_name, null as row_key, count(*) as copies
    from customer_trusted where email_key is null
    having count(*) > 0
    union all
    select 'accelerometer_trusted' as table_name, null as row_key, count(*) as copies
    from accelerometer_trusted
    where email_key is null or timestamp is null or x is null or y is null or z is null
    having count(*) > 0
    union all
    select 'step_trainer_trusted' as table_name, null as row_key, count(*) as copies
    from step_trainer_trusted
    where serialNumber is null or sensorReadingTime is null
    having count(*) > 0
),

final as (
    select * from customer_keys where copies > 1
    union all
    select * from accelerometer_keys where copies > 1
    union all
    select * from step_trainer_keys where copies > 1
    union all
    select * from null_keys
)

select * from final
