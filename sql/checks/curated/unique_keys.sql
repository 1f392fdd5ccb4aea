-- unique_keys: each curated table's key (from its SQL header) is unique and not null.
-- grain: one duplicated or null key value
-- key: table_name, row_key

with customer_keys as (
    select 'customer_curated' as table_name, customer_id as row_key, count(*) as copies
    from customer_curated
    group by customer_id
    having count(*) > 1 or customer_id is null
),

pair_keys as (
    select
        'machine_learning_curated' as table_name,
        concat_ws('|', customer_id, serialNumber, sensorReadingTime, x, y, z) as row_key,
        count(*) as copies
    from machine_learning_curated
    group by customer_id, serialNumber, sensorReadingTime, x, y, z
    having count(*) > 1
        or customer_id is null
        or serialNumber is null
        or sensorReadingTime is null
),

final as (
    select * from customer_keys
    union all
    select * from pair_keys
)

select * from final
