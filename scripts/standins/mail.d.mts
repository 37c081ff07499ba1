export interface MailMessage {
  id: string;
  receivedAt: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  idempotencyKey: string | null;
}

export interface MailSink {
  port: number;
  /** Base URL: GET / is the inbox, GET /messages the JSON list. */
  url: string;
  /** What MAIL_API_URL should be. */
  sendUrl: string;
  apiKey: string;
  messages: MailMessage[];
  close(): Promise<void>;
}

export function start(port?: number, options?: { apiKey?: string }): Promise<MailSink>;
