CREATE TABLE `audit_chain_heads` (
	`chain` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `audit_events` ADD `chain` text DEFAULT 'platform' NOT NULL;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `prev_hash` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `hash` text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE `audit_events` SET `chain` = COALESCE(`tenant_id`, 'platform');--> statement-breakpoint
UPDATE `audit_events` SET `seq` = (SELECT COUNT(*) FROM `audit_events` AS a2 WHERE a2.`chain` = `audit_events`.`chain` AND (a2.`at` < `audit_events`.`at` OR (a2.`at` = `audit_events`.`at` AND a2.`id` <= `audit_events`.`id`)));--> statement-breakpoint
CREATE UNIQUE INDEX `audit_chain_seq_unique` ON `audit_events` (`chain`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_request_idx` ON `audit_events` (`request_id`);