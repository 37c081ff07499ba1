import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "./url";

const prod = { development: false };
const dev = { development: true };

describe("webhookUrlProblem", () => {
  it.each([
    "https://hooks.example.com/aegis",
    "https://hooks.example.com:8443/a?b=c",
    "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://[::ffff:8.8.8.8]/hook",
    "https://172.32.0.1/hook",
  ])("accepts public https %s", (url) => {
    expect(webhookUrlProblem(url, prod)).toBeNull();
  });

  it.each([
    ["http://hooks.example.com", "https"],
    ["https://127.0.0.1/x", "private"],
    ["https://2130706433/x", "private"],
    ["https://0x7f.1/x", "private"],
    ["https://10.1.2.3/x", "private"],
    ["https://172.31.255.255/x", "private"],
    ["https://169.254.169.254/x", "private"],
    ["https://224.0.0.1/x", "private"],
    ["https://[::1]/x", "private"],
    ["https://[::]/x", "private"],
    ["https://[fe80::abcd]/x", "private"],
    ["https://[fc00::1]/x", "private"],
    ["https://[::ffff:127.0.0.1]/x", "private"],
    ["https://[::ffff:192.168.0.1]/x", "private"],
    ["https://[64:ff9b::10.0.0.1]/x", "private"],
    ["https://[2002:c0a8:0101::1]/x", "private"],
    ["https://localhost/x", "localhost"],
    ["https://api.localhost/x", "localhost"],
    ["https://db.internal/x", "localhost"],
    ["https://nas/x", "localhost"],
    ["not a url", "absolute"],
    ["javascript:alert(1)", "https"],
    ["https://u:p@hooks.example.com", "credentials"],
  ])("refuses %s in production", (url, reason) => {
    expect(webhookUrlProblem(url, prod)?.toLowerCase()).toContain(reason);
  });

  it("allows loopback over http or https in development only, and nothing else private", () => {
    for (const url of [
      "http://127.0.0.1:8787/h",
      "http://localhost:3000/h",
      "https://localhost/h",
      "http://[::1]:9/h",
    ]) {
      expect(webhookUrlProblem(url, dev), url).toBeNull();
      expect(webhookUrlProblem(url, prod), url).not.toBeNull();
    }
    expect(webhookUrlProblem("http://10.0.0.1/h", dev)).not.toBeNull();
    expect(webhookUrlProblem("http://hooks.example.com/h", dev)).not.toBeNull();
    expect(webhookUrlProblem("https://192.168.1.1/h", dev)).not.toBeNull();
  });
});
