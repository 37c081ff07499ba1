import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { createDb, type Database } from "../db/client";
import { auditArchives, auditEvents, tenants } from "../db/schema";
import { sha256Hex } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { PLANS, type PlanTier } from "../lib/pricing";

/** Platform events (no tenant) are kept in D1 as long as the default plan's window. */
export const PLATFORM_RETENTION_DAYS = 90;
/** One run archives at most this many tenant-days, so the Cron handler stays bounded. */
const MAX_DAYS_PER_RUN = 50;
const PAGE = 500;
const DELETE_CHUNK = 90;

export interface ArchiveManifest {
  tenantId: string;
  chain: string;
  day: string;
  rowCount: number;
  firstId: string;
  lastId: string;
  firstSeq: number;
  lastSeq: number;
  chainHash: string;
  sha256: string;
}

export const archiveKey = (chain: string, day: string) => `audit/${chain}/${day}.ndjson.gz`;

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function gunzip(bytes: ArrayBuffer): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

const nextDay = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);

/**
 * Moves one chain's events of one day to R2 as gzipped NDJSON with a manifest, and deletes them
 * from D1 only after the object was written and read back intact. Re-running after a crash at
 * any point neither loses nor duplicates: an existing archive of that day is reused if it holds
 * exactly the rows still in D1, and rows are deleted only when the archive covers them.
 */
export async function archiveDay(
  db: Database,
  bucket: R2Bucket,
  chain: string,
  day: string,
  beforeSeq: number,
) {
  const dayStart = `${day}T00:00:00.000Z`;
  const dayEnd = `${nextDay(day)}T00:00:00.000Z`;
  const where = and(
    eq(auditEvents.chain, chain),
    gte(auditEvents.at, dayStart),
    lt(auditEvents.at, dayEnd),
    lt(auditEvents.seq, beforeSeq),
  );
  const rows: Array<typeof auditEvents.$inferSelect> = [];
  for (let afterSeq = -1; ; ) {
    const page = await db
      .select()
      .from(auditEvents)
      .where(and(where, sql`${auditEvents.seq} > ${afterSeq}`))
      .orderBy(asc(auditEvents.seq))
      .limit(PAGE)
      .all();
    rows.push(...page);
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) break;
    afterSeq = last.seq;
  }
  if (rows.length === 0) return { archived: 0, deleted: 0 };
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (!first || !last) return { archived: 0, deleted: 0 };

  const existing = await db
    .select()
    .from(auditArchives)
    .where(
      and(
        eq(auditArchives.tenantId, chain),
        sql`(${auditArchives.day} = ${day} OR ${auditArchives.day} LIKE ${`${day}~%`})`,
      ),
    )
    .all()
    .then((all) => all.find((a) => a.firstSeq <= first.seq && a.lastSeq >= last.seq));
  // A day normally has one archive; rows of that day written late (after a later day's rows) get a part of their own.
  const partOf = await db
    .select({ day: auditArchives.day })
    .from(auditArchives)
    .where(and(eq(auditArchives.tenantId, chain), eq(auditArchives.day, day)))
    .get();
  const dayKey = existing ? existing.day : partOf ? `${day}~${first.seq}` : day;
  const key = archiveKey(chain, dayKey);
  let manifest: ArchiveManifest;
  if (existing) {
    // A previous run wrote and recorded this archive but did not finish deleting.
    manifest = {
      tenantId: existing.tenantId,
      chain,
      day: existing.day,
      rowCount: existing.rowCount,
      firstId: existing.firstId,
      lastId: existing.lastId,
      firstSeq: existing.firstSeq,
      lastSeq: existing.lastSeq,
      chainHash: existing.chainHash,
      sha256: existing.sha256,
    };
  } else {
    const ndjson = `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
    const body = await gzip(ndjson);
    const digest = await sha256Hex(body);
    manifest = {
      tenantId: chain,
      chain,
      day: dayKey,
      rowCount: rows.length,
      firstId: first.id,
      lastId: last.id,
      firstSeq: first.seq,
      lastSeq: last.seq,
      chainHash: last.hash,
      sha256: digest,
    };
    await bucket.put(key, body, {
      httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" },
      customMetadata: Object.fromEntries(Object.entries(manifest).map(([k, v]) => [k, String(v)])),
    });
    // Read back before anything is deleted: the object must be whole and hold every row.
    const back = await bucket.get(key);
    if (!back) throw new Error(`archive ${key} missing after write`);
    const bytes = await back.arrayBuffer();
    if ((await sha256Hex(new Uint8Array(bytes))) !== digest)
      throw new Error(`archive ${key} does not match what was written`);
    const lines = (await gunzip(bytes)).trim().split("\n");
    if (lines.length !== rows.length)
      throw new Error(`archive ${key} holds ${lines.length} rows, expected ${rows.length}`);
    await db
      .insert(auditArchives)
      .values({ ...manifest, tenantId: chain, objectKey: key })
      .onConflictDoUpdate({
        target: [auditArchives.tenantId, auditArchives.day],
        set: {
          objectKey: key,
          rowCount: manifest.rowCount,
          firstId: manifest.firstId,
          lastId: manifest.lastId,
          firstSeq: manifest.firstSeq,
          lastSeq: manifest.lastSeq,
          chainHash: manifest.chainHash,
          sha256: manifest.sha256,
        },
      });
  }
  let deleted = 0;
  const ids = rows.filter((r) => r.seq >= manifest.firstSeq && r.seq <= manifest.lastSeq).map((r) => r.id);
  for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
    const chunk = ids.slice(i, i + DELETE_CHUNK);
    const res = await db
      .delete(auditEvents)
      .where(
        sql`${auditEvents.id} IN (${sql.join(
          chunk.map((id) => sql`${id}`),
          sql`, `,
        )})`,
      )
      .run();
    deleted += res.meta.changes;
  }
  return { archived: manifest.rowCount, deleted };
}

/**
 * Daily Cron: each chain's events older than its plan's retention go to R2, one object per day, a
 * bounded number of days per run. Only a prefix of the chain is ever archived (rows before the first
 * row still inside the window), so what stays in D1 remains one verifiable chain.
 */
export async function runAuditRetention(env: Env, now = new Date()): Promise<{ days: number; rows: number }> {
  const db = createDb(env.DB);
  const plans = new Map(
    (await db.select({ id: tenants.id, planTier: tenants.planTier }).from(tenants).all()).map((t) => [
      t.id,
      t.planTier as PlanTier,
    ]),
  );
  const minRetention = Math.min(
    PLATFORM_RETENTION_DAYS,
    ...Object.values(PLANS).map((p) => p.auditRetentionDays),
  );
  const chains = await db
    .selectDistinct({ chain: auditEvents.chain, tenantId: auditEvents.tenantId })
    .from(auditEvents)
    .where(lt(auditEvents.at, new Date(now.getTime() - minRetention * 86_400_000).toISOString()))
    .limit(1000)
    .all();
  let days = 0;
  let rows = 0;
  for (const c of chains) {
    if (days >= MAX_DAYS_PER_RUN) break;
    const tier = c.tenantId ? plans.get(c.tenantId) : undefined;
    const retention = tier ? PLANS[tier].auditRetentionDays : PLATFORM_RETENTION_DAYS;
    // Whole days strictly before the cutoff day, so a day is archived once, complete.
    const cutoff = `${new Date(now.getTime() - retention * 86_400_000).toISOString().slice(0, 10)}T00:00:00.000Z`;
    const firstKept = await db
      .select({ seq: sql<number | null>`MIN(${auditEvents.seq})` })
      .from(auditEvents)
      .where(and(eq(auditEvents.chain, c.chain), gte(auditEvents.at, cutoff)))
      .get();
    const beforeSeq = firstKept?.seq ?? Number.MAX_SAFE_INTEGER;
    const dayRows = await db
      .selectDistinct({ day: sql<string>`substr(${auditEvents.at}, 1, 10)` })
      .from(auditEvents)
      .where(and(eq(auditEvents.chain, c.chain), lt(auditEvents.seq, beforeSeq), lt(auditEvents.at, cutoff)))
      .orderBy(sql`substr(${auditEvents.at}, 1, 10)`)
      .limit(MAX_DAYS_PER_RUN - days)
      .all();
    for (const { day } of dayRows) {
      const res = await archiveDay(db, env.ARCHIVE, c.chain, day, beforeSeq);
      days++;
      rows += res.deleted;
    }
  }
  return { days, rows };
}

/** Reads an archived day back from R2 for the viewer. */
export async function readArchivedDay(db: Database, bucket: R2Bucket, chain: string, day: string) {
  const parts = await db
    .select()
    .from(auditArchives)
    .where(
      and(
        eq(auditArchives.tenantId, chain),
        sql`(${auditArchives.day} = ${day} OR ${auditArchives.day} LIKE ${`${day}~%`})`,
      ),
    )
    .orderBy(asc(auditArchives.firstSeq))
    .all();
  const first = parts[0];
  if (!first) return null;
  const rows: Array<typeof auditEvents.$inferSelect> = [];
  for (const manifest of parts) {
    const object = await bucket.get(manifest.objectKey);
    if (!object)
      throw new AppError(500, "archive_missing", `The archive of ${manifest.day} is missing from storage`);
    const bytes = await object.arrayBuffer();
    if ((await sha256Hex(new Uint8Array(bytes))) !== manifest.sha256) {
      throw new AppError(
        500,
        "archive_integrity_failed",
        `The archive of ${manifest.day} does not match its recorded sha256`,
      );
    }
    const text = await gunzip(bytes);
    // Our own rows, written by archiveDay and checked against the manifest's sha256 just above.
    for (const line of text.trim().split("\n"))
      if (line) rows.push(JSON.parse(line) as typeof auditEvents.$inferSelect);
  }
  const last = parts[parts.length - 1] ?? first;
  return {
    manifest: {
      rowCount: parts.reduce((n, p) => n + p.rowCount, 0),
      firstId: first.firstId,
      lastId: last.lastId,
      chainHash: last.chainHash,
      sha256: first.sha256,
    },
    rows,
  };
}
