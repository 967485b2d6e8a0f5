// @generated automatically by Diesel CLI.

diesel::table! {
    attachments (id) {
        id -> Text,
        parent_type -> Text,
        parent_id -> Text,
        unit_id -> Text,
        title -> Text,
        kind -> Text,
        file_name -> Text,
        media_type -> Text,
        size -> Int8,
        sha256 -> Text,
        public -> Bool,
        public_sha256 -> Nullable<Text>,
        public_size -> Nullable<Int8>,
        preview_sha256 -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
        version -> Int8,
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
        version -> Int8,
        issued_on -> Nullable<Date>,
    }
}

diesel::table! {
    commendation_count_deltas (id) {
        id -> Int8,
        scope_id -> Text,
        own -> Int4,
        campaign_id -> Text,
        year -> Int4,
        status -> Text,
        form -> Text,
        subject -> Text,
        issuing_authority -> Text,
        issuer_level -> Text,
        n -> Int8,
    }
}

diesel::table! {
    commendation_counts (scope_id, own, campaign_id, year, status, form, subject, issuing_authority, issuer_level) {
        scope_id -> Text,
        own -> Int4,
        campaign_id -> Text,
        year -> Int4,
        status -> Text,
        form -> Text,
        subject -> Text,
        issuing_authority -> Text,
        issuer_level -> Text,
        n -> Int8,
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
        decision_year -> Nullable<Int4>,
        reason -> Text,
        amount_vnd -> Nullable<Int8>,
        status -> Text,
        revocation_reason -> Nullable<Text>,
        revocation_decision_number -> Nullable<Text>,
        revoked_on -> Nullable<Date>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Int8,
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
        decision_year -> Int4,
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
        version -> Int8,
    }
}

diesel::table! {
    evaluations (id) {
        id -> Text,
        model_id -> Text,
        evaluator_unit_id -> Text,
        review_kind -> Text,
        year -> Int4,
        criteria_set_code -> Text,
        criteria -> Text,
        total_score -> Float8,
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
        version -> Int8,
        evaluated_on -> Nullable<Date>,
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
        status -> Nullable<Int4>,
        content_type -> Nullable<Text>,
        headers -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
        held_until -> Nullable<Timestamp>,
        committed_resource -> Nullable<Text>,
    }
}

diesel::table! {
    model_area_count_deltas (id) {
        id -> Int8,
        scope_id -> Text,
        own -> Int4,
        special_area -> Text,
        unit_level -> Text,
        campaign_id -> Text,
        year -> Int4,
        status -> Text,
        kind -> Text,
        field -> Text,
        subject -> Text,
        registered_level -> Text,
        n -> Int8,
    }
}

diesel::table! {
    model_area_counts (scope_id, own, special_area, campaign_id, year, status, kind, field, subject, registered_level, unit_level) {
        scope_id -> Text,
        own -> Int4,
        special_area -> Text,
        unit_level -> Text,
        campaign_id -> Text,
        year -> Int4,
        status -> Text,
        kind -> Text,
        field -> Text,
        subject -> Text,
        registered_level -> Text,
        n -> Int8,
    }
}

diesel::table! {
    model_count_deltas (id) {
        id -> Int8,
        scope_id -> Text,
        own -> Int4,
        unit_level -> Text,
        campaign_id -> Text,
        year -> Int4,
        status -> Text,
        kind -> Text,
        field -> Text,
        subject -> Text,
        registered_level -> Text,
        n -> Int8,
    }
}

diesel::table! {
    model_counts (scope_id, own, campaign_id, year, status, kind, field, subject, registered_level, unit_level) {
        scope_id -> Text,
        own -> Int4,
        unit_level -> Text,
        campaign_id -> Text,
        year -> Int4,
        status -> Text,
        kind -> Text,
        field -> Text,
        subject -> Text,
        registered_level -> Text,
        n -> Int8,
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
    model_scopes (model_id, scope_id) {
        model_id -> Text,
        scope_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        title -> Text,
    }
}

diesel::table! {
    model_special_areas (model_id, special_area) {
        model_id -> Text,
        special_area -> Text,
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
        year -> Int4,
        objectives -> Nullable<Text>,
        indicators -> Text,
        replicated_from_id -> Nullable<Text>,
        status -> Text,
        status_history -> Text,
        latest_progress_on -> Nullable<Date>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Int8,
        registered_on -> Nullable<Date>,
        deregistered_on -> Nullable<Date>,
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
        version -> Int8,
    }
}

diesel::table! {
    token_failures (subject, window_start) {
        subject -> Text,
        window_start -> Timestamp,
        n -> Int4,
    }
}

diesel::table! {
    unit_lineage (ancestor_id, descendant_id) {
        ancestor_id -> Text,
        descendant_id -> Text,
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
        depth -> Int4,
    }
}

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
        version -> Int8,
        established_on -> Nullable<Date>,
    }
}

diesel::table! {
    upload_parts (upload_id, start_offset) {
        upload_id -> Text,
        start_offset -> Int8,
        size -> Int8,
        object_key -> Text,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        subject -> Text,
        parent_type -> Text,
        parent_id -> Text,
        title -> Text,
        kind -> Text,
        file_name -> Text,
        public -> Bool,
        length -> Int8,
        received -> Int8,
        attachment_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        parts -> Int8,
        finishing_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_seq -> Int8,
        resource_id -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamp,
        last_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_events (seq) {
        seq -> Int8,
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
        version -> Int8,
    }
}

diesel::joinable!(attachments -> units (unit_id));
diesel::joinable!(campaigns -> units (unit_id));
diesel::joinable!(commendation_counts -> units (scope_id));
diesel::joinable!(commendations -> decisions (decision_id));
diesel::joinable!(commendations -> evaluations (evaluation_id));
diesel::joinable!(commendations -> models (model_id));
diesel::joinable!(decisions -> units (issuer_unit_id));
diesel::joinable!(evaluations -> models (model_id));
diesel::joinable!(evaluations -> units (evaluator_unit_id));
diesel::joinable!(model_area_counts -> units (scope_id));
diesel::joinable!(model_counts -> units (scope_id));
diesel::joinable!(model_progress -> models (model_id));
diesel::joinable!(model_scopes -> models (model_id));
diesel::joinable!(model_scopes -> units (scope_id));
diesel::joinable!(model_special_areas -> models (model_id));
diesel::joinable!(models -> campaigns (campaign_id));
diesel::joinable!(models -> units (unit_id));
diesel::joinable!(service_account_secrets -> service_accounts (account_id));
diesel::joinable!(service_accounts -> units (unit_id));
diesel::joinable!(upload_parts -> uploads (upload_id));
diesel::joinable!(uploads -> attachments (attachment_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_seq));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhooks -> units (unit_id));

diesel::allow_tables_to_appear_in_same_query!(
    attachments,
    audit_events,
    campaigns,
    commendation_count_deltas,
    commendation_counts,
    commendations,
    decisions,
    evaluations,
    idempotency_keys,
    model_area_count_deltas,
    model_area_counts,
    model_count_deltas,
    model_counts,
    model_progress,
    model_scopes,
    model_special_areas,
    models,
    service_account_secrets,
    service_accounts,
    token_failures,
    unit_lineage,
    unit_parents,
    unit_successors,
    unit_tree,
    units,
    upload_parts,
    uploads,
    webhook_deliveries,
    webhook_events,
    webhooks,
);
