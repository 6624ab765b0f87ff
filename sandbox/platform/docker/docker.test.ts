import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSandbox, waitFor, type TestSandbox } from '../testing.ts';

const COMPOSE = 'cd ~/platform && docker compose -f docker-compose.production.yml --env-file .env.production';

describe('docker on the sandbox VPS', () => {
  let t: TestSandbox;
  before(async () => { t = await startTestSandbox(); });
  after(async () => { await t?.stop(); });

  it('lists the backend containers healthy with the runbook\'s ps filters and format', async () => {
    const r = await t.ssh("docker ps --filter name=curateme-backend-b2b --filter name=curateme-backend-gateway --format '{{.Names}}\\t{{.Status}}'");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').sort();
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^curateme-backend-b2b\tUp .+ \(healthy\)$/);
    assert.match(lines[1]!, /^curateme-backend-gateway\tUp .+ \(healthy\)$/);
  });

  it('up --force-recreate picks up an edited env file and gives a fresh start time', async () => {
    const before = await t.ssh("docker inspect -f '{{.State.StartedAt}}' curateme-backend-b2b");
    await t.ssh(`cd ~/platform && echo 'SANDBOX_MARKER=edited' >> .env.production`);
    const up = await t.ssh(`${COMPOSE} up -d --force-recreate backend-b2b backend-gateway`);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /Container curateme-backend-b2b {2}Started/);
    const afterStart = await t.ssh("docker inspect -f '{{.State.StartedAt}}' curateme-backend-b2b");
    assert.ok(Date.parse(afterStart.stdout.trim()) > Date.parse(before.stdout.trim()), `${before.stdout} -> ${afterStart.stdout}`);
    const env = await t.ssh('docker exec curateme-backend-b2b printenv SANDBOX_MARKER');
    assert.equal(env.stdout, 'edited\n');
    await t.platform.waitHealthy(['curateme-backend-b2b', 'curateme-backend-gateway']);
  });

  it('up --wait returns once the recreated containers are healthy, and says so', async () => {
    const up = await t.ssh(`${COMPOSE} up -d --wait --wait-timeout 60 --force-recreate backend-b2b backend-gateway celery-worker celery-beat`);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /Container curateme-backend-b2b {2}Started[\s\S]*Container curateme-backend-b2b {2}Healthy/);
    assert.match(up.stderr, /Container curateme-celery-worker {2}Healthy/);
    // No healthcheck: running is all `--wait` asks of it.
    assert.match(up.stderr, /Container curateme-celery-beat {2}Running/);
    // No poll after it: the very next ps shows both healthy.
    const ps = await t.ssh("docker ps --filter name=curateme-backend-b2b --filter name=curateme-backend-gateway --format '{{.Status}}'");
    assert.equal(ps.stdout.match(/\(healthy\)/g)?.length, 2, ps.stdout);
  });

  it('logs --follow streams lines as the container writes them, and a reader that stops ends the session', async () => {
    const started = performance.now();
    // The line comes after the follow began: wiring the org makes the backend log its subscription.
    const follow = t.ssh("sed -n '/graph_subscription/ { p; q }' <(timeout 60 docker logs --follow --since 0s curateme-backend-b2b 2>&1 </dev/null)");
    await t.platform.runtime.whenFollowed('curateme-backend-b2b');
    const wired = await t.platform.wireOrg();
    assert.equal(wired.status, 200);
    await wired.body?.cancel();
    const r = await follow;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /graph_subscription/);
    assert.ok(performance.now() - started < 30_000, `took ${Math.round(performance.now() - started)} ms: the session waited for docker logs`);
  });

  it('docker exec sees the container env and -e additions, with stdin piped', async () => {
    const r = await t.ssh(`docker exec -e PYTHONPATH=/app curateme-backend-b2b python - <<"PY"
import os
print("tenant", os.environ["MICROSOFT_GRAPH_TENANT_ID"])
print("secret set", bool(os.environ["MICROSOFT_GRAPH_CLIENT_SECRET"]))
print("app on path", any(p.endswith("/app") for p in os.environ["PYTHONPATH"].split(":")))
PY`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `tenant ${t.facts['tenant-id']}\nsecret set True\napp on path True\n`);
  });

  it('the image\'s python hands -c, - and scripts straight to python3: no Node process in between', async () => {
    // python3's parent is whatever started `python`, never the image's Node stand-in for the wire-org script
    // (python-*.mjs), which would cost every `docker exec ... python` a Node start.
    const parent = 'import os; print(open(f"/proc/{os.getppid()}/cmdline").read().replace(chr(0), " "))';
    const viaC = await t.ssh(`docker exec curateme-backend-b2b python -c '${parent}'`);
    const viaStdin = await t.ssh('docker exec curateme-backend-b2b python -', parent);
    for (const r of [viaC, viaStdin]) {
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /python-[0-9a-f]{16}\.mjs/);
      // Nor the VPS's docker as a Node program (docker-*.mjs): the daemon ran the command and the shim exec'd it.
      assert.doesNotMatch(r.stdout, /docker-[0-9a-f]{16}\.mjs/);
    }
  });

  it('docker exec gives the command the container\'s environment only, and -e NAME the client\'s value', async () => {
    const r = await t.ssh("export SESSION_ONLY=x FROM_CLIENT=client; docker exec -e FROM_CLIENT curateme-backend-b2b sh -c 'echo \"[${SESSION_ONLY-unset}] [$FROM_CLIENT] [$SANDBOX_SERVICE]\"'");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[unset] [client] [backend-b2b]\n');
    const missing = await t.ssh('docker exec curateme-backend-b2b no-such-command');
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /executable file not found in \$PATH/);
  });

  it('mints a token inside the container with the runbook\'s httpx round-trip', async () => {
    const r = await t.ssh(`docker exec -e PYTHONPATH=/app curateme-backend-b2b python - <<"PY"
import os, httpx
host = os.environ["MICROSOFT_GRAPH_AUTHORITY_HOST"]
tenant = os.environ["MICROSOFT_GRAPH_TENANT_ID"]
data = {"client_id": os.environ["MICROSOFT_GRAPH_CLIENT_ID"], "client_secret": os.environ["MICROSOFT_GRAPH_CLIENT_SECRET"],
        "grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"}
r = httpx.post(f"{host}/{tenant}/oauth2/v2.0/token", data=data, timeout=30)
print("status", r.status_code)
body = r.json()
print("ok" if "access_token" in body else "FAIL", "error", body.get("error"))
PY`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'status 200\nok error None\n');
  });

  it('docker cp + exec of fm_m365_wire_org.py arms the subscription idempotently', async () => {
    const cp = await t.ssh('docker cp ~/platform/scripts/fm_m365_wire_org.py curateme-backend-b2b:/tmp/fm_m365_wire_org.py');
    assert.equal(cp.code, 0, cp.stderr);
    const wire = `docker exec -e PYTHONPATH=/app curateme-backend-b2b python /tmp/fm_m365_wire_org.py --org ${t.facts['org-id']} --mailbox ${t.facts.mailbox} --m365-user-id ${t.facts['mailbox-user-id']}`;
    const first = await t.ssh(wire);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^org=org_sandbox_household mailbox=family@curate-me\.ai subscription=\S+ expires=/);
    const second = await t.ssh(wire);
    assert.match(second.stderr, /graph_subscription renewed/);
    assert.equal(/subscription=(\S+)/.exec(second.stdout)?.[1], /subscription=(\S+)/.exec(first.stdout)?.[1]);
    const logs = await t.ssh("docker logs curateme-backend-b2b --since 5m 2>&1 | grep -iE 'graph_subscription|inbound|graph_message|approval'");
    assert.match(logs.stdout, /graph_subscription renewed org=org_sandbox_household/);
  });

  it('without the copy, the script is not in the image', async () => {
    await t.ssh(`${COMPOSE} up -d --force-recreate backend-b2b`);
    const r = await t.ssh('docker exec -e PYTHONPATH=/app curateme-backend-b2b python /tmp/fm_m365_wire_org.py --org x --mailbox y --m365-user-id z');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /can't open file '\/tmp\/fm_m365_wire_org\.py'/);
    await t.platform.waitHealthy(['curateme-backend-b2b']);
  });

  it('a blank secret makes the backend exit with the documented RuntimeError', async () => {
    await t.ssh("cd ~/platform && cp .env.production .env.keep && sed -i 's/^MICROSOFT_GRAPH_CLIENT_SECRET=.*/MICROSOFT_GRAPH_CLIENT_SECRET=/' .env.production");
    await t.ssh(`${COMPOSE} up -d --force-recreate backend-gateway`);
    const r = await waitFor('exit', async () => {
      const ps = await t.ssh("docker ps -a --filter name=curateme-backend-gateway --format '{{.Status}}'");
      return ps.stdout.startsWith('Exited') ? ps : undefined;
    });
    assert.match(r.stdout, /^Exited \(1\)/);
    const logs = await t.ssh('docker logs curateme-backend-gateway 2>&1');
    assert.match(logs.stdout, /^RuntimeError: Microsoft Graph not configured\. Missing env vars: MICROSOFT_GRAPH_CLIENT_SECRET$/m);
    await t.ssh(`cd ~/platform && mv .env.keep .env.production && ${COMPOSE} up -d backend-gateway`);
    await t.platform.waitHealthy(['curateme-backend-gateway']);
  });

  it('a container-unhealthy fault shows in docker ps', async () => {
    t.sandbox.context.faults.inject({ kind: 'container-unhealthy', params: { container: 'curateme-backend-gateway' } });
    await t.ssh(`${COMPOSE} up -d --force-recreate backend-gateway`);
    const status = await waitFor('unhealthy', async () => {
      const r = await t.ssh("docker ps --filter name=curateme-backend-gateway --format '{{.Status}}'");
      return /\(unhealthy\)/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(status, /^Up .+ \(unhealthy\)\n$/);
  });

  it('up --wait fails as soon as a container turns unhealthy, naming it', async () => {
    t.sandbox.context.faults.inject({ kind: 'container-unhealthy', params: { container: 'curateme-backend-gateway' } });
    const started = performance.now();
    const up = await t.ssh(`${COMPOSE} up -d --wait --force-recreate backend-gateway`);
    assert.equal(up.code, 1, up.stderr);
    assert.match(up.stderr, /container curateme-backend-gateway is unhealthy/);
    // Not the compose file's 20 s start period: the service said it was ready, then failed its checks.
    assert.ok(performance.now() - started < 15_000, `took ${Math.round(performance.now() - started)} ms`);
  });
});
