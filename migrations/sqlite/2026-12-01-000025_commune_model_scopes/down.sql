DELETE FROM model_scopes WHERE scope_id IN (SELECT id FROM units WHERE level = 'commune');
