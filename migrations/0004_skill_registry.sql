ALTER TABLE `skill_versions` ADD `object_key` text;--> statement-breakpoint
ALTER TABLE `skill_versions` ADD `size_bytes` integer;--> statement-breakpoint
ALTER TABLE `skill_versions` ADD `findings` text;--> statement-breakpoint
ALTER TABLE `skill_versions` ADD `permissions` text;--> statement-breakpoint
ALTER TABLE `skill_versions` ADD `review_note` text;--> statement-breakpoint
ALTER TABLE `skill_versions` ADD `uploaded_by` text;--> statement-breakpoint
ALTER TABLE `skill_versions` ADD `submitted_at` text;--> statement-breakpoint
ALTER TABLE `skill_versions` ADD `reviewed_by` text;--> statement-breakpoint
ALTER TABLE `skill_versions` ADD `reviewed_at` text;--> statement-breakpoint
CREATE INDEX `skill_versions_status_idx` ON `skill_versions` (`status`);