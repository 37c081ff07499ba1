CREATE TABLE `quota_notifications` (
	`agent_id` text NOT NULL,
	`month` text NOT NULL,
	`state` text NOT NULL,
	`tenant_id` text NOT NULL,
	`used_tokens` integer NOT NULL,
	`quota` integer NOT NULL,
	`at` text NOT NULL,
	`notified_at` text,
	PRIMARY KEY(`agent_id`, `month`, `state`)
);
--> statement-breakpoint
CREATE TABLE `stripe_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`tenant_id` text,
	`received_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_calls` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`day` text NOT NULL,
	`month` text NOT NULL,
	`model` text NOT NULL,
	`model_tier` text NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`thinking_tokens` integer NOT NULL,
	`cache_read_tokens` integer NOT NULL,
	`cache_write_tokens` integer NOT NULL,
	`quota_tokens` integer NOT NULL,
	`usage_missing` integer DEFAULT false NOT NULL,
	`cost_micros` integer NOT NULL,
	`overage_input_tokens` integer DEFAULT 0 NOT NULL,
	`overage_output_tokens` integer DEFAULT 0 NOT NULL,
	`overage_micros` integer DEFAULT 0 NOT NULL,
	`stripe_reported_at` text,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `usage_calls_agent_month_idx` ON `usage_calls` (`agent_id`,`month`);--> statement-breakpoint
CREATE INDEX `usage_calls_overage_idx` ON `usage_calls` (`stripe_reported_at`,`overage_micros`);--> statement-breakpoint
CREATE TABLE `usage_records` (
	`tenant_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`day` text NOT NULL,
	`month` text NOT NULL,
	`model_tier` text NOT NULL,
	`calls` integer DEFAULT 0 NOT NULL,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`thinking_tokens` integer DEFAULT 0 NOT NULL,
	`cache_read_tokens` integer DEFAULT 0 NOT NULL,
	`cache_write_tokens` integer DEFAULT 0 NOT NULL,
	`quota_tokens` integer DEFAULT 0 NOT NULL,
	`missing_usage_calls` integer DEFAULT 0 NOT NULL,
	`cost_micros` integer DEFAULT 0 NOT NULL,
	`overage_micros` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`agent_id`, `day`, `model_tier`)
);
--> statement-breakpoint
CREATE INDEX `usage_records_tenant_month_idx` ON `usage_records` (`tenant_id`,`month`);--> statement-breakpoint
ALTER TABLE `agents` ADD `usage_month` text;--> statement-breakpoint
ALTER TABLE `agents` ADD `quota_acknowledged_at` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `stripe_customer_id` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `stripe_subscription_id` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `billing_status` text DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE `tenants` ADD `billing_status_at` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `billing_sync_until` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `billing_sync_pending` integer DEFAULT false NOT NULL;