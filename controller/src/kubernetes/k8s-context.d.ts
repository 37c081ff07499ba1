// What the k8s suite's global setup (scripts/k8s-setup.ts) provides to its tests.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    kubeServer: string;
    kubeToken: string;
  }
}
