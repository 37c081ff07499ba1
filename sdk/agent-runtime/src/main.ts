// Entry of the agent runtime process (container command, or the controller's local driver).
import { runFromEnv } from "./runtime";

runFromEnv().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
