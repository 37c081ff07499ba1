declare namespace Cloudflare {
  interface Env {
    /**
     * Benchmarks only: `1` turns audit writing off so `npm run bench:audit` can measure the
     * middleware's cost. Honoured only while AEGIS_ENV is "development".
     */
    AEGIS_AUDIT_DISABLED?: string;
    /** How long the model gateway waits for the upstream before answering 504 (default 120000 ms). */
    MODEL_UPSTREAM_TIMEOUT_MS?: string;
    /** The dry-run sandbox's time limit in ms (default: the sandbox's own, 10 s); tests shorten it. */
    SKILL_DRY_RUN_TIMEOUT_MS?: string;
  }
}
