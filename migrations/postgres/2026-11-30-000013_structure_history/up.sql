-- The structure as it stood on any date (issue 15): a target of "all communes of the district"
-- means the communes the district had at the review point, even after the district closed.
-- A unit is active from established_on (NULL: since before the records begin) until closed_on;
-- each row of unit_parents says under which parent it sat from valid_from until valid_to.
ALTER TABLE units ADD COLUMN established_on DATE;
CREATE TABLE unit_parents (
    unit_id     TEXT NOT NULL REFERENCES units(id),
    parent_id   TEXT REFERENCES units(id),
    valid_from  DATE NOT NULL,
    valid_to    DATE,
    PRIMARY KEY (unit_id, valid_from),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX unit_parents_parent ON unit_parents (parent_id, valid_from);
-- Units known before: under their present parent since before the records begin (a move made
-- by an earlier reorganisation was not recorded as history).
INSERT INTO unit_parents (unit_id, parent_id, valid_from, valid_to)
SELECT id, parent_id, '1900-01-01', NULL FROM units;
