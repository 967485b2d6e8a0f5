DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE unit_lineage;
DROP TABLE unit_tree;
DROP TABLE unit_successors;
DROP TABLE units;
