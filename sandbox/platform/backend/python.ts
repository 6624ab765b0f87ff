/**
 * `python` inside the backend image, for the one script the runbook runs in the container that the platform's Python
 * cannot run here (scripts/fm_m365_wire_org.py): the backend itself performs it. The image's `python` (a shell script
 * the container runtime writes) starts this only for that script; anything else goes to this machine's python3 with
 * the container's env, whose PYTHONPATH provides the image's httpx, as it does here when called otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readCredential } from '../../credential.ts';
import { loopbackAgent, loopbackRequest } from '../../loopback.ts';

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
  const res = await loopbackRequest(`https://127.0.0.1:${process.env.PORT}/admin/ensure-inbound-subscription`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${readCredential(process.env.SANDBOX_DOCKER_CREDENTIAL ?? '')}` },
    body: JSON.stringify({ org: values.org, mailbox: values.mailbox, m365UserId: values['m365-user-id'] }),
    ...(caFile ? { agent: loopbackAgent(readFileSync(caFile, 'utf8')) } : {}),
  });
  const body = JSON.parse(res.text) as { action?: string; subscriptionId?: string; expiration?: string; error?: string };
  const stamp = new Date().toISOString().replace('T', ' ').slice(0, 23).replace('.', ',');
  if (res.status < 200 || res.status >= 300) {
    process.stderr.write(`Traceback (most recent call last):\n  File "${shown}", line 33, in main\n`
      + '    subscription = service.ensure_inbound_subscription(args.org, args.mailbox, args.m365_user_id)\n'
      + `src.services.agent_identity.graph_client.GraphAuthError: ${body.error ?? res.status}\n`);
    return 1;
  }
  process.stderr.write(`${stamp} INFO provisioning graph_subscription ${body.action} org=${values.org} id=${body.subscriptionId}\n`);
  process.stdout.write(`org=${values.org} mailbox=${values.mailbox} subscription=${body.subscriptionId} expires=${body.expiration}\n`);
  return 0;
}
