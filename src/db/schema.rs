// Written by hand to match migrations/{sqlite,postgres}: both backends share these definitions.

diesel::table! {
    units (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        short_name -> Nullable<Text>,
        search_text -> Text,
        kind -> Text,
        level -> Text,
        division_type -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        status -> Text,
        closed_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    unit_successors (predecessor_id, successor_id) {
        predecessor_id -> Text,
        successor_id -> Text,
        is_primary -> Bool,
    }
}

diesel::table! {
    unit_tree (ancestor_id, descendant_id) {
        ancestor_id -> Text,
        descendant_id -> Text,
        depth -> Integer,
    }
}

diesel::table! {
    unit_lineage (ancestor_id, descendant_id) {
        ancestor_id -> Text,
        descendant_id -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor_sub -> Text,
        actor_unit_id -> Nullable<Text>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Text,
        unit_id -> Nullable<Text>,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (subject, idem_key) {
        subject -> Text,
        idem_key -> Text,
        request_hash -> Text,
        state -> Text,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        headers -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(units, unit_successors, unit_tree, unit_lineage, audit_events);
