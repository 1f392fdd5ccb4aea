-- accelerometer_trusted: readings of customer_trusted customers, exact duplicates removed.
-- grain: one distinct reading
-- key: email_key, timestamp, x, y, z
-- invariant: every reading belongs to a consenting customer; with the `since-consent`
--   policy it was taken at or after the customer's shareWithResearchAsOfDate.

with accelerometer_landing as (
    select * from accelerometer_landing
),

customer_trusted as (
    select * from customer_trusted
),

readings as (
    select
        *,
        normal_email(user) as email_key
    from accelerometer_landing
),

consented as (
    select readings.*
    from readings
    inner join customer_trusted on readings.email_key = customer_trusted.email_key
    where getvariable('consent_policy') = 'customer'
        or readings.timestamp >= customer_trusted.shareWithResearchAsOfDate
),

deduplicated as (
    select *
    from consented
    qualify row_number() over (
        partition by email_key, timestamp, x, y, z
        order by _batch_id desc, _source_file desc, _record_number desc
    ) = 1
),

final as (
    select
        email_key,
        user,  -- noqa: AL03
        timestamp,
        x,
        y,
        z,
        reading_at,
        reading_date,
        _source_file,
        _line_number,
        _record_number,
        _batch_id
    from deduplicated
)

select * from final
