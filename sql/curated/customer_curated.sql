-- customer_curated: consenting customers who have accelerometer readings, pseudonymised.
-- grain: one customer
-- key: customer_id (HMAC-SHA256 of the normalised email under the lake's key)
-- invariant: no name, email, phone or birthday.

with customer_trusted as (
    select * from customer_trusted
),

accelerometer_trusted as (
    select * from accelerometer_trusted
),

with_readings as (
    select *
    from customer_trusted
    where
        customer_trusted.email_key
        in (select accelerometer_trusted.email_key from accelerometer_trusted)
),

final as (
    select
        customer_id(email_key) as customer_id,
        serial_numbers,
        registrationDate,
        lastUpdateDate,
        shareWithResearchAsOfDate,
        shareWithPublicAsOfDate,
        shareWithFriendsAsOfDate
    from with_readings
)

select * from final
