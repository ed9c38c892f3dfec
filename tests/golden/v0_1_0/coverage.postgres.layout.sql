CREATE SCHEMA __SCHEMA__;
CREATE TYPE __SCHEMA__.stored_event_uuid AS (
	originator_id uuid,
	originator_version bigint,
	topic text,
	state bytea
);
CREATE FUNCTION __SCHEMA__.es_insert_events_uuid(events __SCHEMA__.stored_event_uuid[]) RETURNS SETOF bigint
    LANGUAGE plpgsql
    AS $$BEGIN    SET LOCAL lock_timeout = '0s';    NOTIFY "kam_events";    RETURN QUERY    INSERT INTO "__SCHEMA__"."kam_events" AS t (    originator_id, originator_version, topic, state)    SELECT originator_id, originator_version, topic, state    FROM unnest(events)    RETURNING notification_id;END;$$;
CREATE TABLE __SCHEMA__.kam_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigint NOT NULL
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');
CREATE TABLE __SCHEMA__.kam_events_asof (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    notification_id bigint NOT NULL
);
CREATE TABLE __SCHEMA__.kam_events_chain (
    "position" bigint NOT NULL,
    link bytea NOT NULL,
    written_at bigint
);
CREATE TABLE __SCHEMA__.kam_events_chain_format (
    format integer NOT NULL,
    since bigint NOT NULL,
    adopted_through bigint,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL
);
CREATE SEQUENCE __SCHEMA__.kam_events_notification_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE __SCHEMA__.kam_events_notification_id_seq OWNED BY __SCHEMA__.kam_events.notification_id;
CREATE TABLE __SCHEMA__.kam_schema_version (
    component text NOT NULL,
    version integer NOT NULL,
    upgraded_at timestamp with time zone DEFAULT now() NOT NULL
);
CREATE TABLE __SCHEMA__.kam_snapshots (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');
CREATE TABLE __SCHEMA__.kam_tracking (
    application_name text NOT NULL,
    notification_id bigint
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');
ALTER TABLE ONLY __SCHEMA__.kam_events ALTER COLUMN notification_id SET DEFAULT nextval('__SCHEMA__.kam_events_notification_id_seq'::regclass);
ALTER TABLE ONLY __SCHEMA__.kam_events_asof
    ADD CONSTRAINT kam_events_asof_pkey PRIMARY KEY (originator_id, "timestamp", originator_version);
ALTER TABLE ONLY __SCHEMA__.kam_events_chain_format
    ADD CONSTRAINT kam_events_chain_format_pkey PRIMARY KEY (format);
ALTER TABLE ONLY __SCHEMA__.kam_events_chain
    ADD CONSTRAINT kam_events_chain_pkey PRIMARY KEY ("position");
ALTER TABLE ONLY __SCHEMA__.kam_events
    ADD CONSTRAINT kam_events_pkey PRIMARY KEY (originator_id, originator_version);
ALTER TABLE ONLY __SCHEMA__.kam_schema_version
    ADD CONSTRAINT kam_schema_version_pkey PRIMARY KEY (component);
ALTER TABLE ONLY __SCHEMA__.kam_snapshots
    ADD CONSTRAINT kam_snapshots_pkey PRIMARY KEY (originator_id, originator_version);
ALTER TABLE ONLY __SCHEMA__.kam_tracking
    ADD CONSTRAINT kam_tracking_pkey PRIMARY KEY (application_name);
CREATE UNIQUE INDEX kam_events_notification_id_idx ON __SCHEMA__.kam_events USING btree (notification_id);
