import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PermissionDeniedError } from "../sdk";
import { createHarness, type Harness } from "../test-harness";
import { csvReport, parseCsv } from "./csv-report";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  await mkdir(join(h.host.workspaceRoot, "reports"));
});
afterEach(() => h.close());

const SALES = [
  "region,product,units,revenue",
  'North,"Widget, large",10,250.5',
  "South,Gadget,4,80",
  'North,"Say ""hi"" | <b>",6,120',
  "",
].join("\r\n");

describe("csv-report", () => {
  it("writes a Markdown summary with column statistics, groups and a preview", async () => {
    await writeFile(join(h.host.workspaceRoot, "reports", "sales.csv"), SALES);
    const result = await csvReport.run(
      { source: "reports/sales.csv", groupBy: "region", title: "Sales" },
      h.host,
    );
    expect(result).toEqual({
      outputPath: "reports/sales.md",
      rows: 3,
      columns: [
        { name: "region", numeric: false },
        { name: "product", numeric: false },
        { name: "units", numeric: true },
        { name: "revenue", numeric: true },
      ],
    });
    const markdown = await readFile(join(h.host.workspaceRoot, "reports", "sales.md"), "utf8");
    expect(markdown).toContain("# Sales");
    expect(markdown).toContain("| units | number | 3 | 4 | 10 | 6.67 | 20 |");
    expect(markdown).toContain("| revenue | number | 3 | 80 | 250.50 | 150.17 | 450.50 |");
    expect(markdown).toContain("| North | 2 | 16 | 370.50 |");
    expect(markdown).toContain('| North | Say "hi" \\| &lt;b&gt; | 6 | 120 |');
  });

  it("cannot read outside reports/", async () => {
    await writeFile(join(h.host.workspaceRoot, "payroll.csv"), "name,salary\nA,1\n");
    await expect(csvReport.run({ source: "payroll.csv" }, h.host)).rejects.toBeInstanceOf(
      PermissionDeniedError,
    );
  });

  it("says which row is malformed", async () => {
    await writeFile(join(h.host.workspaceRoot, "reports", "bad.csv"), "a,b\n1,2\n3\n");
    await expect(csvReport.run({ source: "reports/bad.csv" }, h.host)).rejects.toMatchObject({
      code: "invalid_csv",
      message: "Row 3 has 1 fields; the header has 2",
    });
  });

  it("refuses a source that is not a .csv path", async () => {
    await expect(csvReport.run({ source: "reports/sales.xlsx" }, h.host)).rejects.toMatchObject({
      issues: { source: [expect.any(String)] },
    });
  });
});

describe("parseCsv", () => {
  it("handles quotes, doubled quotes, embedded newlines and CRLF", () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi""\nthere"\r\n\r\n')).toEqual([
      ["a", "b"],
      ["x, y", 'say "hi"\nthere'],
    ]);
  });

  it("refuses an unclosed quote", () => {
    expect(() => parseCsv('a\n"open')).toThrow("A quoted field is never closed");
  });
});
