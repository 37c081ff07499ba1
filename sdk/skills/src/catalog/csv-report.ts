import { z } from "zod";
import { defineSkill, normalizeWorkspacePath, SkillError, type SkillManifest } from "../sdk";

/** Largest CSV file the skill reads, in characters. */
export const MAX_CSV_CHARS = 5_000_000;

const manifest = {
  manifestVersion: 1,
  name: "csv-report",
  version: "1.0.0",
  displayName: "CSV report",
  description:
    "Read a CSV file from reports/ and write a Markdown summary of it: columns, totals, groups, a preview.",
  category: "data",
  entry: "src/catalog/csv-report.ts",
  runtime: "js",
  permissions: {
    network: { allowedDomains: [] },
    files: { readPaths: ["reports/"], writePaths: ["reports/"] },
    env: { required: [], optional: [] },
    messages: { send: [] },
    models: { gateway: false },
  },
} satisfies SkillManifest;

/**
 * Parses RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes; LF or CRLF line
 * ends; blank lines are skipped. Returns the rows as arrays of cells.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => {
    row.push(cell);
    if (row.length > 1 || row[0] !== "") rows.push(row);
    row = [];
    cell = "";
  };
  while (i < text.length) {
    const char = text[i];
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        cell += char;
      }
      i++;
      continue;
    }
    if (char === '"' && cell === "") quoted = true;
    else if (char === ",") {
      row.push(cell);
      cell = "";
    } else if (char === "\n" || (char === "\r" && text[i + 1] === "\n")) {
      endRow();
      if (char === "\r") i++;
    } else cell += char;
    i++;
  }
  if (quoted) throw new SkillError("invalid_csv", "A quoted field is never closed");
  if (cell !== "" || row.length > 0) endRow();
  return rows;
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

interface ColumnStats {
  name: string;
  filled: number;
  numeric: boolean;
  min?: number;
  max?: number;
  sum?: number;
}

function columnStats(name: string, values: string[]): ColumnStats {
  const filled = values.filter((value) => value.trim() !== "");
  const numbers = filled
    .map((value) => value.trim())
    .filter((value) => NUMBER.test(value))
    .map(Number);
  if (filled.length === 0 || numbers.length !== filled.length)
    return { name, filled: filled.length, numeric: false };
  return {
    name,
    filled: filled.length,
    numeric: true,
    // reduce, not Math.min(...numbers): spreading a large column would overflow the call stack.
    min: numbers.reduce((low, value) => Math.min(low, value), Number.POSITIVE_INFINITY),
    max: numbers.reduce((high, value) => Math.max(high, value), Number.NEGATIVE_INFINITY),
    sum: numbers.reduce((total, value) => total + value, 0),
  };
}

/** Makes a value safe inside a Markdown table cell (no row breaks, no HTML). */
function cell(value: string): string {
  return value.replace(/\r?\n/g, " ").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function formatNumber(value: number | undefined): string {
  if (value === undefined) return "";
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.map(cell).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ].join("\n");
}

function filePath(extension: string) {
  return z
    .string()
    .min(1)
    .max(512)
    .refine((path) => {
      const normalized = normalizeWorkspacePath(path);
      return normalized?.toLowerCase().endsWith(extension) ?? false;
    }, `must be a workspace path ending in ${extension}`);
}

export const csvReport = defineSkill({
  manifest,
  input: z.strictObject({
    source: filePath(".csv"),
    /** Default: the source path with .md instead of .csv. */
    output: filePath(".md").optional(),
    title: z.string().trim().min(1).max(200).optional(),
    groupBy: z.string().min(1).max(200).optional(),
    previewRows: z.number().int().min(0).max(50).default(5),
  }),
  output: z.object({
    outputPath: z.string(),
    rows: z.number().int().nonnegative(),
    columns: z.array(z.object({ name: z.string(), numeric: z.boolean() })),
  }),
  async handler(input, ctx) {
    const text = await ctx.fs.read(input.source);
    if (text === null) throw new SkillError("not_found", `No file at ${input.source}`);
    if (text.length > MAX_CSV_CHARS) throw new SkillError("too_large", "The CSV file is larger than 5 MB");

    const [header, ...rows] = parseCsv(text);
    if (header === undefined) throw new SkillError("invalid_csv", "The CSV file is empty");
    for (const [index, row] of rows.entries())
      if (row.length !== header.length)
        throw new SkillError(
          "invalid_csv",
          `Row ${index + 2} has ${row.length} fields; the header has ${header.length}`,
        );

    const stats = header.map((name, column) =>
      columnStats(
        name,
        rows.map((row) => row[column] ?? ""),
      ),
    );
    const outputPath = input.output ?? input.source.replace(/\.csv$/i, ".md");
    const sections = [
      `# ${cell(input.title ?? `Report on ${input.source}`)}`,
      `Source: \`${input.source}\`, ${rows.length} rows, ${header.length} columns. Generated ${ctx.now().toISOString()}.`,
      "## Columns",
      table(
        ["Column", "Type", "Filled", "Min", "Max", "Mean", "Sum"],
        stats.map((column) => [
          column.name,
          column.numeric ? "number" : "text",
          String(column.filled),
          formatNumber(column.min),
          formatNumber(column.max),
          column.sum === undefined ? "" : formatNumber(column.sum / column.filled),
          formatNumber(column.sum),
        ]),
      ),
    ];

    if (input.groupBy !== undefined) {
      const column = header.indexOf(input.groupBy);
      if (column === -1) throw new SkillError("unknown_column", `No column named ${input.groupBy}`);
      const numericColumns = stats.flatMap((stat, index) =>
        stat.numeric && index !== column ? [index] : [],
      );
      const groups = new Map<string, string[][]>();
      for (const row of rows) {
        const key = row[column] ?? "";
        const members = groups.get(key);
        if (members) members.push(row);
        else groups.set(key, [row]);
      }
      sections.push(
        `## By ${cell(input.groupBy)}`,
        table(
          [input.groupBy, "Rows", ...numericColumns.map((index) => `Sum of ${header[index] ?? ""}`)],
          [...groups.entries()]
            .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
            .map(([key, members]) => [
              key === "" ? "(empty)" : key,
              String(members.length),
              ...numericColumns.map((index) =>
                formatNumber(members.reduce((total, row) => total + (Number(row[index]) || 0), 0)),
              ),
            ]),
        ),
      );
    }

    if (input.previewRows > 0 && rows.length > 0)
      sections.push(
        `## First ${Math.min(input.previewRows, rows.length)} rows`,
        table(header, rows.slice(0, input.previewRows)),
      );

    await ctx.fs.write(outputPath, `${sections.join("\n\n")}\n`);
    return { outputPath, rows: rows.length, columns: stats.map(({ name, numeric }) => ({ name, numeric })) };
  },
});
