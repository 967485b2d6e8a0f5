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
        established_on -> Nullable<Date>,
    }
}

diesel::table! {
    unit_parents (unit_id, valid_from) {
        unit_id -> Text,
        parent_id -> Nullable<Text>,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
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
        client_request_id -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (subject, authority, operation, idem_key) {
        subject -> Text,
        authority -> Text,
        operation -> Text,
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
diesel::table! {
    campaigns (id) {
        id -> Text,
        code -> Text,
        title -> Text,
        description -> Nullable<Text>,
        search_text -> Text,
        unit_id -> Text,
        parent_campaign_id -> Nullable<Text>,
        starts_on -> Date,
        ends_on -> Date,
        fields -> Text,
        directives -> Text,
        targets -> Text,
        review_points -> Text,
        criteria_sets -> Text,
        status -> Text,
        launched_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        issued_on -> Nullable<Date>,
    }
}

diesel::table! {
    models (id) {
        id -> Text,
        campaign_id -> Text,
        unit_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        search_text -> Text,
        subject -> Text,
        person_name -> Nullable<Text>,
        person_position -> Nullable<Text>,
        kind -> Text,
        field -> Nullable<Text>,
        special_areas -> Text,
        registered_level -> Text,
        year -> Integer,
        objectives -> Nullable<Text>,
        indicators -> Text,
        replicated_from_id -> Nullable<Text>,
        status -> Text,
        status_history -> Text,
        latest_progress_on -> Nullable<Date>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        registered_on -> Nullable<Date>,
        deregistered_on -> Nullable<Date>,
    }
}

diesel::table! {
    model_special_areas (model_id, special_area) {
        model_id -> Text,
        special_area -> Text,
    }
}

diesel::table! {
    model_progress (id) {
        id -> Text,
        model_id -> Text,
        reported_on -> Date,
        text -> Text,
        indicator_values -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    evaluations (id) {
        id -> Text,
        model_id -> Text,
        evaluator_unit_id -> Text,
        review_kind -> Text,
        year -> Integer,
        criteria_set_code -> Text,
        criteria -> Text,
        total_score -> Double,
        verdict -> Nullable<Text>,
        decision -> Nullable<Text>,
        comment -> Nullable<Text>,
        status -> Text,
        supersedes_id -> Nullable<Text>,
        superseded_by_id -> Nullable<Text>,
        finalized_at -> Nullable<Timestamp>,
        finalized_by -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        evaluated_on -> Nullable<Date>,
    }
}

diesel::table! {
    commendations (id) {
        id -> Text,
        model_id -> Text,
        evaluation_id -> Text,
        recipient_subject -> Text,
        recipient_unit_id -> Nullable<Text>,
        recipient_name -> Nullable<Text>,
        form -> Text,
        issuer_unit_id -> Text,
        issuing_authority -> Text,
        authority_title -> Text,
        issuer_name -> Nullable<Text>,
        issuer_level -> Nullable<Text>,
        decision_number -> Nullable<Text>,
        decided_on -> Nullable<Date>,
        decision_year -> Nullable<Integer>,
        reason -> Text,
        amount_vnd -> Nullable<BigInt>,
        status -> Text,
        revocation_reason -> Nullable<Text>,
        revocation_decision_number -> Nullable<Text>,
        revoked_on -> Nullable<Date>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        decision_id -> Nullable<Text>,
    }
}

diesel::table! {
    decisions (id) {
        id -> Text,
        issuer_unit_id -> Text,
        issuing_authority -> Text,
        authority_title -> Text,
        form -> Text,
        number -> Text,
        decided_on -> Date,
        decision_year -> Integer,
        summary -> Nullable<Text>,
        signer_name -> Nullable<Text>,
        signer_position -> Nullable<Text>,
        issuer_name -> Nullable<Text>,
        issuer_level -> Nullable<Text>,
        status -> Text,
        revocation_reason -> Nullable<Text>,
        revocation_number -> Nullable<Text>,
        revoked_on -> Nullable<Date>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    service_accounts (id) {
        id -> Text,
        unit_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        roles -> Text,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    service_account_secrets (id) {
        id -> Text,
        account_id -> Text,
        hash -> Text,
        hint -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        unit_id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        events -> Text,
        secret -> Text,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_events (seq) {
        seq -> BigInt,
        id -> Text,
        event_type -> Text,
        resource_type -> Text,
        resource_id -> Text,
        unit_id -> Text,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_seq -> BigInt,
        resource_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_seq));

diesel::joinable!(commendations -> decisions (decision_id));
diesel::allow_tables_to_appear_in_same_query!(
    units,
    unit_successors,
    unit_tree,
    unit_lineage,
    audit_events,
    campaigns,
    models,
    model_special_areas,
    model_progress,
    evaluations,
    commendations,
    service_accounts,
    service_account_secrets,
    decisions,
    unit_parents,
    webhooks,
    webhook_events,
    webhook_deliveries
);
