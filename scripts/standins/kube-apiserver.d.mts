export interface RecordedKubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | null;
  body: unknown;
}

export interface KubeApiStandIn {
  readonly url: string;
  readonly requests: RecordedKubeRequest[];
  readonly store: Map<string, unknown>;
  readonly logs: Map<string, string>;
  fail(plural: string, name: string, status: number, message: string, reason?: string): void;
  close(): Promise<void>;
}

export function start(port?: number): Promise<KubeApiStandIn>;
