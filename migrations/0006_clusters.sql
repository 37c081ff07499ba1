CREATE TABLE `agent_runtime_credentials` (
	`agent_id` text PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	`credential_hash` text NOT NULL,
	`version` integer NOT NULL,
	`issued_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `clusters` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`tenant_id` text,
	`registration_token_hash` text,
	`registration_expires_at` text,
	`reported_name` text,
	`registered_at` text,
	`credential_hash` text,
	`desired_generation` integer DEFAULT 0 NOT NULL,
	`desired_hash` text,
	`created_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `clusters_tenant_idx` ON `clusters` (`tenant_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `clusters_credential_unique` ON `clusters` (`credential_hash`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `cluster_id` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `egress_mode` text DEFAULT 'enforce' NOT NULL;