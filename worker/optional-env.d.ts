declare namespace Cloudflare {
  interface Env {
    /**
     * Benchmarks only: `1` turns audit writing off so `npm run bench:audit` can measure the
     * middleware's cost. Honoured only while AEGIS_ENV is "development".
     */
    AEGIS_AUDIT_DISABLED?: string;
  }
}
