import { z } from "zod";
import { defineSkill, noPermissions, type SkillContext, SkillError, type SkillManifest } from "../sdk";

/** Most tasks one agent keeps; completed tasks count until deleted. */
export const MAX_TASKS = 500;

const manifest = {
  manifestVersion: 1,
  name: "task-tracking",
  version: "1.0.0",
  displayName: "Task tracking",
  description: "Create, update, list and complete the agent's tasks, kept in its memory.",
  category: "productivity",
  entry: "src/core/task-tracking.ts",
  runtime: "js",
  permissions: noPermissions(),
} satisfies SkillManifest;

export const TASK_STATUSES = ["open", "in_progress", "blocked", "done"] as const;

const taskSchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string().optional(),
  assignee: z.string().optional(),
  status: z.enum(TASK_STATUSES),
  dueAt: z.iso.datetime().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  completedAt: z.iso.datetime().optional(),
});
export type Task = z.infer<typeof taskSchema>;

const KEY_PREFIX = "task:";
const title = z.string().trim().min(1).max(200);
const description = z.string().trim().max(4000);
const assignee = z.string().trim().min(1).max(128);
const taskId = z.uuid();

async function loadTask(ctx: SkillContext, id: string): Promise<Task> {
  const raw = await ctx.kv.get(KEY_PREFIX + id);
  if (raw === null) throw new SkillError("not_found", `No task with id ${id}`);
  return parseStored(raw);
}

// Stored records are re-validated: memory outlives skill versions and is not trusted blindly.
function parseStored(raw: string): Task {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new SkillError("corrupt_record", "A stored task is not valid JSON");
  }
  const parsed = taskSchema.safeParse(value);
  if (!parsed.success) throw new SkillError("corrupt_record", "A stored task does not match the task schema");
  return parsed.data;
}

async function saveTask(ctx: SkillContext, task: Task): Promise<Task> {
  await ctx.kv.put(KEY_PREFIX + task.id, JSON.stringify(task));
  return task;
}

const output = z.discriminatedUnion("action", [
  z.object({ action: z.enum(["create", "update", "complete"]), task: taskSchema }),
  z.object({ action: z.literal("list"), tasks: z.array(taskSchema) }),
]);

export const taskTracking = defineSkill({
  manifest,
  input: z.discriminatedUnion("action", [
    z.strictObject({
      action: z.literal("create"),
      title,
      description: description.optional(),
      assignee: assignee.optional(),
      dueAt: z.iso.datetime({ offset: true }).optional(),
    }),
    z.strictObject({
      action: z.literal("update"),
      id: taskId,
      title: title.optional(),
      description: description.optional(),
      assignee: assignee.optional(),
      status: z.enum(TASK_STATUSES).optional(),
      dueAt: z.iso.datetime({ offset: true }).optional(),
    }),
    z.strictObject({ action: z.literal("complete"), id: taskId }),
    z.strictObject({ action: z.literal("list"), status: z.enum(TASK_STATUSES).optional() }),
  ]),
  output,
  async handler(input, ctx): Promise<z.input<typeof output>> {
    const now = ctx.now().toISOString();
    switch (input.action) {
      case "create": {
        const existing = await ctx.kv.list(KEY_PREFIX);
        if (existing.length >= MAX_TASKS)
          throw new SkillError("limit_reached", `An agent keeps at most ${MAX_TASKS} tasks`);
        const task: Task = {
          id: crypto.randomUUID(),
          title: input.title,
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.assignee === undefined ? {} : { assignee: input.assignee }),
          ...(input.dueAt === undefined ? {} : { dueAt: new Date(input.dueAt).toISOString() }),
          status: "open",
          createdAt: now,
          updatedAt: now,
        };
        return { action: "create", task: await saveTask(ctx, task) };
      }
      case "update": {
        const task = await loadTask(ctx, input.id);
        const updated: Task = {
          ...task,
          ...(input.title === undefined ? {} : { title: input.title }),
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.assignee === undefined ? {} : { assignee: input.assignee }),
          ...(input.status === undefined ? {} : { status: input.status }),
          ...(input.dueAt === undefined ? {} : { dueAt: new Date(input.dueAt).toISOString() }),
          updatedAt: now,
        };
        if (updated.status !== "done") delete updated.completedAt;
        else if (task.status !== "done") updated.completedAt = now;
        return { action: "update", task: await saveTask(ctx, updated) };
      }
      case "complete": {
        const task = await loadTask(ctx, input.id);
        const completed: Task =
          task.status === "done" ? task : { ...task, status: "done", completedAt: now, updatedAt: now };
        return { action: "complete", task: await saveTask(ctx, completed) };
      }
      case "list": {
        const tasks: Task[] = [];
        for (const key of await ctx.kv.list(KEY_PREFIX)) {
          const raw = await ctx.kv.get(key);
          if (raw !== null) tasks.push(parseStored(raw));
        }
        const wanted =
          input.status === undefined ? tasks : tasks.filter((task) => task.status === input.status);
        return {
          action: "list",
          tasks: wanted.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)),
        };
      }
    }
  },
});
