export interface ReceivedDelivery {
  id: string;
  receivedAt: string;
  path: string;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  answered: number;
}

export interface WebhookReceiver {
  port: number;
  url: string;
  deliveries: ReceivedDelivery[];
  close(): Promise<void>;
}

export function start(port?: number): Promise<WebhookReceiver>;
