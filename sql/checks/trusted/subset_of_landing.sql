-- subset_of_landing: every trusted row is a landing row, unchanged: its lineage points at a
--   landing row that carries the same values.
-- grain: one trusted row with no matching landing row
-- key: table_name, source_file, line_number

with customer_orphans as (
    select 'customer_trusted' as table_name, t._source_file, t._line_number
    from customer_trusted as t
    left join customer_landing as l
        on l._source_file = t._source_file
        and l._line_number = t._line_number
        and l._batch_id = t._batch_id
        and l.email = t.email
        and l.lastUpdateDate = t.lastUpdateDate
        and l.shareWithResearchAsOfDate is not distinct from t.shareWithResearchAsOfDate
    where l._source_file is null
),

accelerometer_orphans as (
    select 'accelerometer_trusted' as table_name, t._source_file, t._line_number
    from accelerometer_trusted as t
    left join accelerometer_landing as l
        on l._source_file = t._source_file
        and l._line_number = t._line_number
        and l._batch_id = t._batch_id
        and l.user = t.user
        and l.timestamp = t.timestamp
        and l.x = t.x and l.y = t.y and l.z = t.z
    where l._source_file is null
),

step_trainer_orphans as (
    select 'step_trainer_trusted' as table_name, t._source_file, t._line_number
    from step_trainer_trusted as t
    left join step_trainer_landing as l
        on l._source_file = t._source_file
        and l._line_number = t._line_number
        and l._batch_id = t._batch_id
        and l.serialNumber = t.serialNumber
        and l.sensorReadingTime = t.sensorReadingTime
        and l.distanceFromObject = t.distanceFromObject
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
