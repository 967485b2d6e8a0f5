-- A target counts the models as they stood on its day (issue 15): registered from
-- `registered_on` until `deregistered_on`, the day the model was last returned to its unit or
-- withdrawn after it had been registered. Rows written before take both from their history.
ALTER TABLE models ADD COLUMN deregistered_on DATE;
UPDATE models SET deregistered_on = (
    SELECT date(json_extract(h.value, '$.at'), '+7 hours') FROM json_each(models.status_history) h
    WHERE json_extract(h.value, '$.from') IN ('registered', 'in_progress')
      AND json_extract(h.value, '$.to') IN ('returned', 'withdrawn')
    ORDER BY h.key DESC LIMIT 1)
WHERE status IN ('returned', 'withdrawn');
-- A model returned before this column existed had no registration date; its first submission is.
UPDATE models SET registered_on = (
    SELECT date(json_extract(h.value, '$.at'), '+7 hours') FROM json_each(models.status_history) h
    WHERE json_extract(h.value, '$.action') = 'submit' ORDER BY h.key LIMIT 1)
WHERE status = 'returned' AND registered_on IS NULL;
