-- subset_of_landing: every trusted row is a landing row, unchanged: its lineage points at a
--   landing row that carries the same values.
-- grain: one trusted row with no matching landing row
-- key: table_name, _source_file, _record_number

with customer_orphans as (
    select 'customer_trusted' as table_name, t._source_file, t._record_number
    from customer_trusted as t
    left join customer_landing as l
        on t._source_file = l._source_file
        and t._record_number = l._record_number
        and t._batch_id = l._batch_id
        and t.email = l.email
        and t.lastUpdateDate = l.lastUpdateDate
        and t.shareWithResearchAsOfDate is not distinct from l.shareWithResearchAsOfDate
    where l._source_file is null
),

accelerometer_orphans as (
    select 'accelerometer_trusted' as table_name, t._source_file, t._record_number
    from accelerometer_trusted as t
    left join accelerometer_landing as l
        on t._source_file = l._source_file
        and t._record_number = l._record_number
        and t._batch_id = l._batch_id
        and t.user = l.user
        and t.timestamp = l.timestamp
        and t.x = l.x and t.y = l.y and t.z = l.z
    where l._source_file is null
),

step_trainer_orphans as (
    select 'step_trainer_trusted' as table_name, t._source_file, t._record_number
    from step_trainer_trusted as t
    left join step_trainer_landing as l
        on t._source_file = l._source_file
        and t._record_number = l._record_number
        and t._batch_id = l._batch_id
        and t.serialNumber = l.serialNumber
        and t.sensorReadingTime = l.sensorReadingTime
        and t.distanceFromObject = l.distanceFromObject
    where l._source_file is null
),

final as (
    select * from customer_orphans
    union all
    select * from accelerometer_orphans
    union all
    select * from step_trainer_orphans
)

select * from final
