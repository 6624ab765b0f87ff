/**
 * `python` inside the backend image. The platform's Python is not runnable here, so the one script the runbook runs in
 * the container (scripts/fm_m365_wire_org.py) is performed by the backend itself; anything else (`python - <<PY`)
 * runs on this machine's python3 with the container's env, whose PYTHONPATH provides the image's httpx.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readCredential } from '../../credential.ts';

const args = process.argv.slice(2);
const script = args.find((a) => !a.startsWith('-'));

if (script && /fm_m365_wire_org\.py$/.test(script)) {
  process.exitCode = await wireOrg(script, args.slice(args.indexOf(script) + 1));
} else {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(python, args, { stdio: 'inherit', env: process.env });
  process.exitCode = r.status ?? 1;
}

async function wireOrg(script: string, argv: string[]): Promise<number> {
  const shown = script.replace(process.env.SANDBOX_CONTAINER_ROOT ?? '', '');
  if (!existsSync(script)) {
    process.stderr.write(`python: can't open file '${shown}': [Errno 2] No such file or directory\n`);
    return 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: argv, options: { org: { type: 'string' }, mailbox: { type: 'string' }, 'm365-user-id': { type: 'string' } },
    }));
  } catch (err) {
    process.stderr.write(`usage: fm_m365_wire_org.py [-h] --org ORG --mailbox MAILBOX --m365-user-id M365_USER_ID\n`);
    process.stderr.write(`fm_m365_wire_org.py: error: ${(err as Error).message}\n`);
    return 2;
  }
  const missing = ['org', 'mailbox', 'm365-user-id'].filter((k) => !values[k as keyof typeof values]);
  if (missing.length) {
    process.stderr.write(`usage: fm_m365_wire_org.py [-h] --org ORG --mailbox MAILBOX --m365-user-id M365_USER_ID\n`);
    process.stderr.write(`fm_m365_wire_org.py: error: the following arguments are required: ${missing.map((m) => `--${m}`).join(', ')}\n`);
    return 2;
  }
  if (!(process.env.PYTHONPATH ?? '').split(':').some((p) => p.endsWith('/app'))) {
    process.stderr.write(`Traceback (most recent call last):\n  File "${shown}", line 19, in <module>\n`
      + '    from src.services.provisioning.provisioning_service import ProvisioningService\n'
      + "ModuleNotFoundError: No module named 'src'\n");
    return 1;
  }
  const caFile = process.env.SSL_CERT_FILE || process.env.NODE_EXTRA_CA_CERTS;
  // Loaded here, not at the top: every other `python` call only hands over to python3, and undici is slow to load.
  const { Agent } = await import('undici');
  const dispatcher = new Agent({ connect: caFile ? { ca: readFileSync(caFile, 'utf8') } : {} });
  const res = await fetch(`https://127.0.0.1:${process.env.PORT}/admin/ensure-inbound-subscription`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${readCredential(process.env.SANDBOX_DOCKER_CREDENTIAL ?? '')}` },
    body: JSON.stringify({ org: values.org, mailbox: values.mailbox, m365UserId: values['m365-user-id'] }),
    dispatcher,
  } as RequestInit);
  const body = (await res.json()) as { action?: string; subscriptionId?: string; expiration?: string; error?: string };
  await dispatcher.close();
  const stamp = new Date().toISOString().replace('T', ' ').slice(0, 23).replace('.', ',');
  if (!res.ok) {
    process.stderr.write(`Traceback (most recent call last):\n  File "${shown}", line 33, in main\n`
      + '    subscription = service.ensure_inbound_subscription(args.org, args.mailbox, args.m365_user_id)\n'
      + `src.services.agent_identity.graph_client.GraphAuthError: ${body.error ?? res.status}\n`);
    return 1;
  }
  process.stderr.write(`${stamp} INFO provisioning graph_subscription ${body.action} org=${values.org} id=${body.subscriptionId}\n`);
  process.stdout.write(`org=${values.org} mailbox=${values.mailbox} subscription=${body.subscriptionId} expires=${body.expiration}\n`);
  return 0;
}
