DROP TABLE unit_parents;
ALTER TABLE units DROP COLUMN established_on;
