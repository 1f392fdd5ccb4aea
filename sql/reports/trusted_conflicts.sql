-- trusted_conflicts: conflicting duplicates that the trusted zone resolved, per table.
-- grain: one trusted table
-- key: table_name
-- invariant: a conflict is the key of a trusted row that landing holds with different
--   values; the trusted row is the copy landed last (customers: the later file, then the
--   later record, among records of the same lastUpdateDate).

with step_trainer_copies as (
    select
        landing.serialNumber,
        landing.sensorReadingTime,
        count(distinct landing.distanceFromObject) as distinct_values
    from step_trainer_landing as landing
    inner join step_trainer_trusted as trusted
        on landing.serialNumber = trusted.serialNumber
        and landing.sensorReadingTime = trusted.sensorReadingTime
    group by landing.serialNumber, landing.sensorReadingTime
),

customer_copies as (
    select
        trusted.email_key,
        count(distinct {
            customerName: landing.customerName,
            email: landing.email,
            phone: landing.phone,
            birthDay: landing.birthDay,
            serialNumber: landing.serialNumber,
            registrationDate: landing.registrationDate,
            shareWithResearchAsOfDate: landing.shareWithResearchAsOfDate,
            shareWithPublicAsOfDate: landing.shareWithPublicAsOfDate,
            shareWithFriendsAsOfDate: landing.shareWithFriendsAsOfDate
        }) as distinct_values
    from customer_landing as landing
    inner join customer_trusted as trusted
        on normal_email(landing.email) = trusted.email_key
        and landing.lastUpdateDate = trusted.lastUpdateDate
    group by trusted.email_key
),

final as (
    select
        'customer_trusted' as table_name,
        count(*) filter (where distinct_values > 1) as conflicts
    from customer_copies
    union all
    select
        'step_trainer_trusted' as table_name,
        count(*) filter (where distinct_values > 1) as conflicts
    from step_trainer_copies
)

select * from final
