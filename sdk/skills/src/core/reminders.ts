import { z } from "zod";
import { defineSkill, noPermissions, type SkillContext, SkillError, type SkillManifest } from "../sdk";

export const MAX_REMINDERS = 200;

const manifest = {
  manifestVersion: 1,
  name: "reminders",
  version: "1.0.0",
  displayName: "Reminders",
  description: "Schedule reminders for later and collect the ones that have come due.",
  category: "productivity",
  entry: "src/core/reminders.ts",
  runtime: "js",
  permissions: noPermissions(),
} satisfies SkillManifest;

const reminderSchema = z.object({
  id: z.string(),
  text: z.string(),
  dueAt: z.iso.datetime(),
  createdAt: z.iso.datetime(),
  deliveredAt: z.iso.datetime().optional(),
});
export type Reminder = z.infer<typeof reminderSchema>;

const KEY_PREFIX = "reminder:";
const ONE_YEAR_SECONDS = 366 * 24 * 60 * 60;

async function loadAll(ctx: SkillContext): Promise<Reminder[]> {
  const reminders: Reminder[] = [];
  for (const key of await ctx.kv.list(KEY_PREFIX)) {
    const raw = await ctx.kv.get(key);
    if (raw === null) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new SkillError("corrupt_record", "A stored reminder is not valid JSON");
    }
    const parsed = reminderSchema.safeParse(value);
    if (!parsed.success)
      throw new SkillError("corrupt_record", "A stored reminder does not match the schema");
    reminders.push(parsed.data);
  }
  return reminders.sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.id.localeCompare(b.id));
}

const output = z.discriminatedUnion("action", [
  z.object({ action: z.literal("schedule"), reminder: reminderSchema }),
  z.object({ action: z.literal("cancel"), id: z.string(), cancelled: z.boolean() }),
  z.object({ action: z.enum(["list", "due"]), reminders: z.array(reminderSchema) }),
]);

export const reminders = defineSkill({
  manifest,
  input: z.discriminatedUnion("action", [
    z
      .strictObject({
        action: z.literal("schedule"),
        text: z.string().trim().min(1).max(1000),
        dueAt: z.iso.datetime({ offset: true }).optional(),
        inSeconds: z.number().int().min(1).max(ONE_YEAR_SECONDS).optional(),
      })
      .refine((input) => (input.dueAt === undefined) !== (input.inSeconds === undefined), {
        message: "give exactly one of dueAt and inSeconds",
        path: ["dueAt"],
      }),
    z.strictObject({ action: z.literal("cancel"), id: z.uuid() }),
    z.strictObject({ action: z.literal("list"), includeDelivered: z.boolean().default(false) }),
    z.strictObject({
      action: z.literal("due"),
      /** Mark the returned reminders delivered so the next `due` does not return them again. */
      markDelivered: z.boolean().default(true),
    }),
  ]),
  output,
  async handler(input, ctx): Promise<z.input<typeof output>> {
    const now = ctx.now();
    switch (input.action) {
      case "schedule": {
        if ((await ctx.kv.list(KEY_PREFIX)).length >= MAX_REMINDERS)
          throw new SkillError("limit_reached", `An agent keeps at most ${MAX_REMINDERS} reminders`);
        const dueAt =
          input.dueAt === undefined
            ? new Date(now.getTime() + (input.inSeconds ?? 0) * 1000)
            : new Date(input.dueAt);
        if (dueAt.getTime() <= now.getTime())
          throw new SkillError("invalid_due_time", "A reminder must be due in the future");
        const reminder: Reminder = {
          id: crypto.randomUUID(),
          text: input.text,
          dueAt: dueAt.toISOString(),
          createdAt: now.toISOString(),
        };
        await ctx.kv.put(KEY_PREFIX + reminder.id, JSON.stringify(reminder));
        return { action: "schedule", reminder };
      }
      case "cancel": {
        const key = KEY_PREFIX + input.id;
        const exists = (await ctx.kv.get(key)) !== null;
        if (exists) await ctx.kv.delete(key);
        return { action: "cancel", id: input.id, cancelled: exists };
      }
      case "list": {
        const all = await loadAll(ctx);
        return {
          action: "list",
          reminders: input.includeDelivered
            ? all
            : all.filter((reminder) => reminder.deliveredAt === undefined),
        };
      }
      case "due": {
        const due = (await loadAll(ctx)).filter(
          (reminder) => reminder.deliveredAt === undefined && Date.parse(reminder.dueAt) <= now.getTime(),
        );
        if (!input.markDelivered) return { action: "due", reminders: due };
        const delivered = due.map((reminder) => ({ ...reminder, deliveredAt: now.toISOString() }));
        for (const reminder of delivered)
          await ctx.kv.put(KEY_PREFIX + reminder.id, JSON.stringify(reminder));
        return { action: "due", reminders: delivered };
      }
    }
  },
});
