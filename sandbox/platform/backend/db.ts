import Database from 'better-sqlite3';

export type Db = Database.Database;

export interface ApprovalRow {
  id: string;
  org_id: string;
  sender: string;
  recipient: string;
  subject: string;
  graph_message_id: string;
  status: string;
  created_at: string;
}

export interface SubscriptionRow {
  org_id: string;
  resource: string;
  mailbox: string;
  m365_user_id: string;
  subscription_id: string;
  expiration: string;
}

/**
 * The platform's database (a real SQLite file shared by the backend containers, as their Postgres would be).
 * WAL so b2b, gateway and the sandbox itself can read while one writes.
 */
export function openDb(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS mobile_allowed_senders (
      email TEXT PRIMARY KEY COLLATE NOCASE,
      org_id TEXT NOT NULL,
      member_name TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE IF NOT EXISTS approvals (
      id TEXT PRIMARY KEY,
      org_id TEXT NOT NULL,
      sender TEXT NOT NULL,
      recipient TEXT NOT NULL,
      subject TEXT NOT NULL,
      graph_message_id TEXT NOT NULL UNIQUE,
      status TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS graph_subscriptions (
      org_id TEXT NOT NULL,
      resource TEXT NOT NULL,
      mailbox TEXT NOT NULL,
      m365_user_id TEXT NOT NULL,
      subscription_id TEXT NOT NULL,
      expiration TEXT NOT NULL,
      PRIMARY KEY (org_id, resource)
    );
  `);
  return db;
}

export function allowSender(db: Db, email: string, orgId: string, memberName = ''): void {
  db.prepare('INSERT OR REPLACE INTO mobile_allowed_senders (email, org_id, member_name) VALUES (?, ?, ?)')
    .run(email, orgId, memberName);
}

export function listApprovals(db: Db): ApprovalRow[] {
  return db.prepare('SELECT * FROM approvals ORDER BY created_at').all() as ApprovalRow[];
}
