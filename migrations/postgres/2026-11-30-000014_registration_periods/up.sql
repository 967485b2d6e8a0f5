-- A target counts the models as they stood on its day (issue 15): registered from
-- `registered_on` until `deregistered_on`, the day the model was last returned to its unit or
-- withdrawn after it had been registered. Rows written before take both from their history.
ALTER TABLE models ADD COLUMN deregistered_on DATE;
UPDATE models m SET deregistered_on = (
    SELECT CAST((h.e ->> 'at')::timestamptz AT TIME ZONE 'UTC' + INTERVAL '7 hours' AS DATE)
    FROM jsonb_array_elements(m.status_history::jsonb) WITH ORDINALITY AS h(e, i)
    WHERE h.e ->> 'from' IN ('registered', 'in_progress') AND h.e ->> 'to' IN ('returned', 'withdrawn')
    ORDER BY h.i DESC LIMIT 1)
WHERE m.status IN ('returned', 'withdrawn');
-- A model returned before this column existed had no registration date; its first submission is.
UPDATE models m SET registered_on = (
    SELECT CAST((h.e ->> 'at')::timestamptz AT TIME ZONE 'UTC' + INTERVAL '7 hours' AS DATE)
    FROM jsonb_array_elements(m.status_history::jsonb) WITH ORDINALITY AS h(e, i)
    WHERE h.e ->> 'action' = 'submit' ORDER BY h.i LIMIT 1)
WHERE m.status = 'returned' AND m.registered_on IS NULL;
